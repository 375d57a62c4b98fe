//! Who is TRUSTED: the highest verification level, computed from the meeting graph with the
//! trust metric of Advogato (Raph Levien). A pure function: no I/O, no database.
//!
//! # The rule
//!
//! Members vouch for each other by meeting in person: two members who met at an event confirm
//! each other, and a confirmed, unwithdrawn meeting is an edge between them. A few established
//! organisers, the *seeds*, are chosen by the caller. Trust flows out from the seeds along
//! meetings, like water through pipes:
//!
//! - every member has a *capacity* that depends on how many meetings away from the nearest seed
//!   they are: 30 for a seed, then 10, 4 and 2, and 1 for everyone further out
//!   ([`CAPACITY_BY_DISTANCE`]);
//! - a member who receives a unit of trust keeps one unit for themselves (that makes them
//!   TRUSTED) and may pass on at most their capacity minus one to the members they met;
//! - we compute the largest possible flow, and the members who keep a unit are TRUSTED.
//!
//! So a seed trusts itself and passes on up to 29, a member one meeting away passes on up to 9,
//! two away up to 3, three away up to 1, and a member four or more meetings away passes nothing
//! on: nobody five or more meetings from every seed is ever TRUSTED. In all, the number of
//! TRUSTED members never exceeds 30 per seed.
//!
//! # Why it resists Sybil attacks
//!
//! A Sybil attack is one person creating many fake accounts ("sock puppets") that confirm
//! meetings with one another to look well connected.
//!
//! - **A ring of accounts that only confirm one another gets nothing.** Trust only comes from
//!   the seeds; a ring with no meeting path to a seed receives no flow at all, however many
//!   accounts it has and however densely they confirm each other.
//! - **A ring joined to the honest members gets at most what its entry points pass on.** All the
//!   trust that enters the ring has to cross the meetings between honest members and puppets
//!   (the *attack edges*), and the honest member on such an edge passes on at most their
//!   capacity minus one. A ring joined by one meeting to a member two meetings from a seed
//!   (capacity 4) gets at most 3 TRUSTED puppets; to a member three away (capacity 2), at most 1;
//!   to a member four or more away, none. In general the puppets get at most the sum, over the
//!   honest members who confirmed a puppet, of their capacity minus one, and that bound does
//!   not grow with the size of the ring. The
//!   honest members near the seeds have the large capacities, and they are the ones least
//!   likely to confirm a stranger they never met.
//! - **Banning voids a member's confirmations.** A banned member is removed from the graph with
//!   all their meetings (a banned seed is no seed), so anyone who was reachable only through
//!   them loses their trust at the next computation.
//!
//! The price: trust that an honest member passes to a puppet is trust not passed to an honest
//! member further out. Puppets never raise the number of TRUSTED members beyond 30 per seed,
//! but when more members could use the last units of an honest member's capacity than there
//! are units, which of them get one is whatever the maximum flow picks (deterministically,
//! by member id), puppets included.
//!
//! # How it is computed
//!
//! Banned members, their meetings, self-meetings and duplicate meetings are dropped; a
//! breadth-first search gives each member their distance from the nearest seed. The flow
//! network splits every member `x` within distance 4 into `x_in` and `x_out`:
//! `source -> seed_in` with the seed's capacity, `x_in -> sink` with 1, `x_in -> x_out` with
//! `capacity(x) - 1`, and for each meeting `{x, y}` both `x_out -> y_in` and `y_out -> x_in`
//! unbounded. Members further away cannot receive flow (every path to them crosses a
//! distance-4 member, which passes nothing on), so they are left out of the network. Dinic's
//! algorithm finds the maximum flow, iteratively (no recursion, so a chain of 100k members
//! cannot overflow the stack); the members whose `x_in -> sink` edge carries flow are TRUSTED.
//! Members are numbered in `Uuid` order and meetings sorted, so the result does not depend on
//! the order of the input.

use std::collections::{HashMap, HashSet, VecDeque};

use uuid::Uuid;

/// Capacity of a member by distance (in meetings) from the nearest seed: seeds 30, then 10, 4,
/// 2; 1 beyond (a member that far may be trusted but passes nothing on).
pub const CAPACITY_BY_DISTANCE: [u32; 4] = [30, 10, 4, 2];

/// The meeting graph, as the database holds it.
#[derive(Debug, Default, Clone)]
pub struct MeetingGraph {
    /// Established organisers (chosen by the caller).
    pub seeds: Vec<Uuid>,
    /// Confirmed, unwithdrawn meetings, one per pair, in either order (undirected). Duplicates
    /// and self-loops may appear and must be tolerated.
    pub meetings: Vec<(Uuid, Uuid)>,
    /// Banned members: removed from the graph with all their meetings (a banned seed is no
    /// seed).
    pub banned: HashSet<Uuid>,
}

/// The members the trust flow reaches (Advogato): the seeds, and the members that the maximum
/// flow from the seeds through confirmed meetings gives a unit of trust, each member passing on
/// at most their capacity by distance ([`CAPACITY_BY_DISTANCE`]) minus one. Never more than 30
/// members per (non-banned) seed; never a banned member, nor one five or more meetings from
/// every seed. See the module documentation for why this resists Sybil attacks.
pub fn trusted(graph: &MeetingGraph) -> HashSet<Uuid> {
    let banned = &graph.banned;

    let seeds: Vec<Uuid> = graph
        .seeds
        .iter()
        .copied()
        .filter(|s| !banned.contains(s))
        .collect();
    if seeds.is_empty() {
        return HashSet::new();
    }

    // Members get provisional numbers as they come (ids as `u128` hash faster than `Uuid`),
    // then final numbers in id order (`as_u128` is big-endian: the same order as `Uuid`).
    let mut provisional: HashMap<u128, u32> = HashMap::new();
    let mut ids: Vec<u128> = Vec::new();
    let mut intern = |id: Uuid| -> u32 {
        *provisional.entry(id.as_u128()).or_insert_with(|| {
            ids.push(id.as_u128());
            (ids.len() - 1) as u32
        })
    };
    let seed_numbers: Vec<u32> = seeds.iter().map(|&s| intern(s)).collect();
    // Meetings without self-loops or banned members.
    let mut pairs: Vec<(u32, u32)> = graph
        .meetings
        .iter()
        .filter(|(a, b)| a != b && !banned.contains(a) && !banned.contains(b))
        .map(|&(a, b)| (intern(a), intern(b)))
        .collect();
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    order.sort_unstable_by_key(|&k| ids[k as usize]);
    let mut rank = vec![0u32; ids.len()];
    for (r, &k) in order.iter().enumerate() {
        rank[k as usize] = r as u32;
    }
    let members: Vec<u128> = order.iter().map(|&k| ids[k as usize]).collect();

    // Undirected meetings as member numbers, smaller first, sorted and deduplicated.
    for (a, b) in &mut pairs {
        let (x, y) = (rank[*a as usize], rank[*b as usize]);
        (*a, *b) = (x.min(y), x.max(y));
    }
    pairs.sort_unstable();
    pairs.dedup();
    let neighbours = Csr::undirected(members.len(), &pairs);

    let distance = distances(&neighbours, seed_numbers.iter().map(|&s| rank[s as usize]));

    // Flow nodes: 0 source, 1 sink, then `in` and `out` for each member within reach.
    const SOURCE: u32 = 0;
    const SINK: u32 = 1;
    let mut slot = vec![u32::MAX; members.len()];
    let mut in_network: Vec<u32> = Vec::new();
    for (m, &d) in distance.iter().enumerate() {
        if d != UNREACHED {
            slot[m] = in_network.len() as u32;
            in_network.push(m as u32);
        }
    }
    let node_in = |m: u32| 2 + 2 * slot[m as usize];
    let node_out = |m: u32| 3 + 2 * slot[m as usize];

    let mut net = FlowNetwork::new(2 + 2 * in_network.len());
    let mut to_sink = Vec::with_capacity(in_network.len());
    for &m in &in_network {
        let c = capacity(distance[m as usize]);
        if distance[m as usize] == 0 {
            net.add_edge(SOURCE, node_in(m), c);
        }
        to_sink.push(net.add_edge(node_in(m), SINK, 1));
        if c > 1 {
            net.add_edge(node_in(m), node_out(m), c - 1);
        }
    }
    for &(a, b) in &pairs {
        let (da, db) = (distance[a as usize], distance[b as usize]);
        if da == UNREACHED || db == UNREACHED {
            continue;
        }
        // An `out` node with nothing flowing in needs no edges out.
        if capacity(da) > 1 {
            net.add_edge(node_out(a), node_in(b), INFINITE);
        }
        if capacity(db) > 1 {
            net.add_edge(node_out(b), node_in(a), INFINITE);
        }
    }

    net.max_flow(SOURCE, SINK);

    in_network
        .iter()
        .zip(&to_sink)
        .filter(|&(_, &e)| net.carries_flow(e))
        .map(|(&m, _)| Uuid::from_u128(members[m as usize]))
        .collect()
}

/// Distance of a member too far from every seed to receive any flow.
const UNREACHED: u8 = u8::MAX;
/// The furthest distance that can still receive flow: members at this distance have capacity
/// 1 and pass nothing on.
const MAX_DISTANCE: u8 = CAPACITY_BY_DISTANCE.len() as u8;
/// Capacity of the meeting edges: more than any flow can use.
const INFINITE: u32 = u32::MAX;

fn capacity(distance: u8) -> u32 {
    CAPACITY_BY_DISTANCE
        .get(distance as usize)
        .copied()
        .unwrap_or(1)
}

/// Breadth-first distance from the nearest seed, up to [`MAX_DISTANCE`]; [`UNREACHED`] beyond.
fn distances(graph: &Csr, seeds: impl Iterator<Item = u32>) -> Vec<u8> {
    let mut distance = vec![UNREACHED; graph.nodes()];
    let mut queue = VecDeque::new();
    for s in seeds {
        distance[s as usize] = 0;
        queue.push_back(s);
    }
    while let Some(u) = queue.pop_front() {
        let d = distance[u as usize];
        if d == MAX_DISTANCE {
            continue;
        }
        for &v in graph.row(u) {
            if distance[v as usize] == UNREACHED {
                distance[v as usize] = d + 1;
                queue.push_back(v);
            }
        }
    }
    distance
}

/// Compressed adjacency lists: the entries of node `u` are `items[start[u]..start[u + 1]]`.
struct Csr {
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Csr {
    /// Builds rows from `(row, item)` entries, keeping their order within a row.
    fn from_entries(nodes: usize, entries: impl Iterator<Item = (u32, u32)> + Clone) -> Self {
        let mut start = vec![0u32; nodes + 1];
        for (row, _) in entries.clone() {
            start[row as usize + 1] += 1;
        }
        for i in 0..nodes {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut items = vec![0u32; start[nodes] as usize];
        for (row, item) in entries {
            items[fill[row as usize] as usize] = item;
            fill[row as usize] += 1;
        }
        Csr { start, items }
    }

    fn undirected(nodes: usize, pairs: &[(u32, u32)]) -> Self {
        let entries = pairs.iter().flat_map(|&(a, b)| [(a, b), (b, a)]);
        Self::from_entries(nodes, entries)
    }

    fn nodes(&self) -> usize {
        self.start.len() - 1
    }

    fn row(&self, u: u32) -> &[u32] {
        &self.items[self.start[u as usize] as usize..self.start[u as usize + 1] as usize]
    }
}

/// A flow network for Dinic's algorithm. Edge `e` and its residual twin are `e` and `e ^ 1`;
/// the sum of their capacities stays the original capacity, so nothing overflows.
struct FlowNetwork {
    nodes: usize,
    from: Vec<u32>,
    to: Vec<u32>,
    capacity: Vec<u32>,
}

impl FlowNetwork {
    fn new(nodes: usize) -> Self {
        FlowNetwork {
            nodes,
            from: Vec::new(),
            to: Vec::new(),
            capacity: Vec::new(),
        }
    }

    /// Adds the edge `from -> to` and returns its index.
    fn add_edge(&mut self, from: u32, to: u32, capacity: u32) -> usize {
        let e = self.to.len();
        self.from.extend([from, to]);
        self.to.extend([to, from]);
        self.capacity.extend([capacity, 0]);
        e
    }

    /// Whether the edge (added with capacity 1) is used by the flow.
    fn carries_flow(&self, e: usize) -> bool {
        self.capacity[e] == 0
    }

    /// Pushes the maximum flow from `source` to `sink`, leaving residual capacities behind;
    /// returns its value.
    fn max_flow(&mut self, source: u32, sink: u32) -> u64 {
        let edges = (0..self.to.len() as u32).map(|e| (self.from[e as usize], e));
        let adjacency = Csr::from_entries(self.nodes, edges);
        let mut level = vec![u32::MAX; self.nodes];
        let mut next = vec![0u32; self.nodes];
        let mut queue = VecDeque::new();
        let mut path: Vec<u32> = Vec::new();
        let mut total = 0u64;
        loop {
            // Level graph by breadth-first search over edges with residual capacity.
            level.fill(u32::MAX);
            level[source as usize] = 0;
            queue.clear();
            queue.push_back(source);
            while let Some(u) = queue.pop_front() {
                if level[u as usize] >= level[sink as usize] {
                    break; // Nothing further out lies on a shortest path to the sink.
                }
                for &e in adjacency.row(u) {
                    let v = self.to[e as usize];
                    if self.capacity[e as usize] > 0 && level[v as usize] == u32::MAX {
                        level[v as usize] = level[u as usize] + 1;
                        queue.push_back(v);
                    }
                }
            }
            if level[sink as usize] == u32::MAX {
                return total;
            }

            // Blocking flow by iterative depth-first search with current-arc pointers.
            next.copy_from_slice(&adjacency.start[..self.nodes]);
            path.clear();
            let mut u = source;
            loop {
                if u == sink {
                    let pushed = path
                        .iter()
                        .map(|&e| self.capacity[e as usize])
                        .min()
                        .expect("a path to the sink has edges");
                    for &e in &path {
                        self.capacity[e as usize] -= pushed;
                        self.capacity[(e ^ 1) as usize] += pushed;
                    }
                    total += u64::from(pushed);
                    // Back to the tail of the first saturated edge.
                    let first_saturated = path
                        .iter()
                        .position(|&e| self.capacity[e as usize] == 0)
                        .expect("the bottleneck edge is saturated");
                    path.truncate(first_saturated);
                    u = path.last().map_or(source, |&e| self.to[e as usize]);
                    continue;
                }
                let end = adjacency.start[u as usize + 1];
                let mut advanced = false;
                while next[u as usize] < end {
                    let e = adjacency.items[next[u as usize] as usize];
                    let v = self.to[e as usize];
                    let admissible = level[v as usize] == level[u as usize] + 1
                        && (v == sink || level[v as usize] < level[sink as usize]);
                    if self.capacity[e as usize] > 0 && admissible {
                        path.push(e);
                        u = v;
                        advanced = true;
                        break;
                    }
                    next[u as usize] += 1;
                }
                if !advanced {
                    // Dead end: retreat one edge and never try it again in this phase.
                    let Some(e) = path.pop() else { break };
                    u = self.from[e as usize];
                    next[u as usize] += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::collections::hash_map::Entry;

    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn ids(ns: impl IntoIterator<Item = u128>) -> HashSet<Uuid> {
        ns.into_iter().map(id).collect()
    }

    fn graph(seeds: &[u128], meetings: &[(u128, u128)], banned: &[u128]) -> MeetingGraph {
        MeetingGraph {
            seeds: seeds.iter().copied().map(id).collect(),
            meetings: meetings.iter().map(|&(a, b)| (id(a), id(b))).collect(),
            banned: banned.iter().copied().map(id).collect(),
        }
    }

    /// A clique of `n` members numbered from `first`.
    fn clique(first: u128, n: u128) -> Vec<(u128, u128)> {
        let mut out = Vec::new();
        for a in first..first + n {
            for b in a + 1..first + n {
                out.push((a, b));
            }
        }
        out
    }

    /// Distance from the nearest non-banned seed, computed independently of `trusted`.
    fn reference_distances(g: &MeetingGraph) -> HashMap<Uuid, usize> {
        let mut neighbours: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for &(a, b) in &g.meetings {
            if !g.banned.contains(&a) && !g.banned.contains(&b) {
                neighbours.entry(a).or_default().push(b);
                neighbours.entry(b).or_default().push(a);
            }
        }
        let mut distance = HashMap::new();
        let mut queue = VecDeque::new();
        for &s in &g.seeds {
            if !g.banned.contains(&s) && distance.insert(s, 0).is_none() {
                queue.push_back(s);
            }
        }
        while let Some(u) = queue.pop_front() {
            let d = distance[&u];
            for &v in neighbours.get(&u).map_or(&[][..], Vec::as_slice) {
                if let Entry::Vacant(slot) = distance.entry(v) {
                    slot.insert(d + 1);
                    queue.push_back(v);
                }
            }
        }
        distance
    }

    /// `trusted`, with the invariants that hold for every graph checked on the way.
    fn run(g: &MeetingGraph) -> HashSet<Uuid> {
        let result = trusted(g);

        let seeds: HashSet<Uuid> = g
            .seeds
            .iter()
            .copied()
            .filter(|s| !g.banned.contains(s))
            .collect();
        assert!(
            result.len() <= 30 * seeds.len(),
            "{} trusted from {} seeds",
            result.len(),
            seeds.len()
        );
        assert!(seeds.is_subset(&result), "every seed trusts itself");
        assert!(result.is_disjoint(&g.banned), "no banned member is trusted");
        let distance = reference_distances(g);
        for m in &result {
            assert!(
                distance.get(m).is_some_and(|&d| d <= 4),
                "{m} is trusted but not within 4 meetings of a seed"
            );
        }

        // The order and orientation of the input do not matter.
        let mut shuffled = g.clone();
        shuffled.meetings.reverse();
        for (i, m) in shuffled.meetings.iter_mut().enumerate() {
            if i % 2 == 0 {
                *m = (m.1, m.0);
            }
        }
        shuffled.seeds.reverse();
        assert_eq!(trusted(&shuffled), result, "deterministic");

        result
    }

    #[test]
    fn empty_graph_trusts_no_one() {
        assert!(run(&MeetingGraph::default()).is_empty());
    }

    #[test]
    fn no_seeds_trusts_no_one() {
        assert!(run(&graph(&[], &clique(1, 10), &[])).is_empty());
    }

    #[test]
    fn lone_seeds_are_trusted() {
        assert_eq!(run(&graph(&[1, 2], &[], &[])), ids([1, 2]));
    }

    #[test]
    fn honest_community_seeds_and_partners_trusted() {
        // Two seeds, their meeting partners, and partners of partners.
        let meetings = [
            (1, 2),
            (1, 10),
            (1, 11),
            (1, 12),
            (2, 13),
            (2, 14),
            (10, 20),
            (11, 21),
            (13, 22),
            (20, 21),
            (22, 30),
        ];
        let result = run(&graph(&[1, 2], &meetings, &[]));
        assert_eq!(result, ids([1, 2, 10, 11, 12, 13, 14, 20, 21, 22, 30]));
    }

    #[test]
    fn chain_stops_at_distance_four() {
        // 0 is the seed; member k is k meetings away along a single chain.
        let meetings: Vec<(u128, u128)> = (0..10).map(|k| (k, k + 1)).collect();
        let result = run(&graph(&[0], &meetings, &[]));
        assert_eq!(result, ids(0..=4));
        assert!(!result.contains(&id(5)));
    }

    #[test]
    fn capacities_bound_what_each_distance_passes_on() {
        // A seed with 40 direct partners: it passes on 29 of its 30.
        let star: Vec<(u128, u128)> = (1..=40).map(|k| (0, k)).collect();
        assert_eq!(run(&graph(&[0], &star, &[])).len(), 30);

        // Seed 0 -> 1 (distance 1, capacity 10) -> 20 partners: 9 of them trusted.
        let mut fan = vec![(0, 1)];
        fan.extend((100..120).map(|k| (1, k)));
        assert_eq!(run(&graph(&[0], &fan, &[])).len(), 2 + 9);
    }

    #[test]
    fn isolated_sybil_clique_gets_nothing() {
        let mut meetings = vec![(1, 2), (2, 3), (1, 4)];
        meetings.extend(clique(1000, 50));
        let result = run(&graph(&[1], &meetings, &[]));
        assert_eq!(result, ids([1, 2, 3, 4]));
        assert!((1000..1050).all(|p| !result.contains(&id(p))));
    }

    /// Honest community: seed 1; 2 and 3 at distance 1; 4 (via 2) and 5 (via 3) at distance 2;
    /// 6 at distance 3 (via 5). Fifty puppets 1000..1050 in a clique, joined by one meeting to
    /// `attach`.
    fn sybil_attack(attach: u128) -> (MeetingGraph, HashSet<Uuid>) {
        let honest = [(1, 2), (1, 3), (2, 4), (3, 5), (5, 6)];
        let mut meetings = honest.to_vec();
        meetings.extend(clique(1000, 50));
        meetings.push((attach, 1000));
        (graph(&[1], &meetings, &[]), ids(1..=6))
    }

    fn puppets(result: &HashSet<Uuid>) -> usize {
        (1000..1050).filter(|&p| result.contains(&id(p))).count()
    }

    #[test]
    fn sybil_clique_behind_distance_two_member_gets_at_most_three() {
        let (g, honest) = sybil_attack(4);
        let result = run(&g);
        assert!(
            puppets(&result) <= 3,
            "{} puppets trusted",
            puppets(&result)
        );
        assert!(honest.is_subset(&result), "honest members keep their trust");
    }

    #[test]
    fn sybil_clique_behind_distance_three_member_gets_at_most_one() {
        let (g, honest) = sybil_attack(6);
        let result = run(&g);
        assert!(
            puppets(&result) <= 1,
            "{} puppets trusted",
            puppets(&result)
        );
        assert!(honest.is_subset(&result), "honest members keep their trust");
    }

    #[test]
    fn sybil_clique_behind_distance_four_member_gets_nothing() {
        // 7 is four meetings from the seed (1 - 3 - 5 - 6 - 7).
        let (mut g, _) = sybil_attack(7);
        g.meetings.push((id(6), id(7)));
        let result = run(&g);
        assert_eq!(puppets(&result), 0);
        assert!(ids(1..=7).is_subset(&result));
    }

    #[test]
    fn sybil_bound_is_the_sum_over_attack_edges() {
        // Puppets joined to two distance-2 members (4 and 5): at most 3 + 3.
        let (mut g, honest) = sybil_attack(4);
        g.meetings.push((id(5), id(1010)));
        let result = run(&g);
        assert!(
            puppets(&result) <= 6,
            "{} puppets trusted",
            puppets(&result)
        );
        assert!(honest.is_subset(&result));
    }

    #[test]
    fn banned_member_voids_confirmations() {
        // 3 is reachable only through the banned 2; 4 through 5 as well.
        let meetings = [(1, 2), (2, 3), (1, 5), (5, 4), (2, 4)];
        let result = run(&graph(&[1], &meetings, &[2]));
        assert_eq!(result, ids([1, 5, 4]));

        // Without the ban, 2 and 3 are trusted.
        assert_eq!(run(&graph(&[1], &meetings, &[])), ids(1..=5));
    }

    #[test]
    fn banned_seed_trusts_no_one() {
        let meetings = [(1, 2), (2, 3), (1, 4)];
        assert!(run(&graph(&[1], &meetings, &[1])).is_empty());

        // Another seed still counts, but nothing flows through the banned one.
        let meetings = [(1, 2), (2, 3), (1, 4), (9, 10)];
        assert_eq!(run(&graph(&[1, 9], &meetings, &[1])), ids([9, 10]));
    }

    #[test]
    fn duplicates_and_self_loops_tolerated() {
        let meetings = [
            (1, 2),
            (2, 1),
            (1, 2),
            (2, 2),
            (1, 1),
            (2, 3),
            (3, 3),
            (3, 2),
        ];
        let result = run(&graph(&[1, 1], &meetings, &[]));
        assert_eq!(result, ids([1, 2, 3]));

        // A self-loop alone neither connects nor trusts anyone.
        assert!(run(&graph(&[], &[(5, 5)], &[])).is_empty());
        assert_eq!(run(&graph(&[5], &[(5, 5), (6, 6)], &[])), ids([5]));
    }

    #[test]
    fn global_bound_holds_for_a_dense_community() {
        // One seed in a 200-member clique: 30 at most.
        let result = run(&graph(&[0], &clique(0, 200), &[]));
        assert_eq!(result.len(), 30);
    }

    /// A simple deterministic pseudo-random generator (Knuth's MMIX LCG).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn large_random_graph_completes() {
        let members = 20_000u64;
        let mut rng = Lcg(42);
        let meetings: Vec<(u128, u128)> = (0..100_000)
            .map(|_| (rng.below(members) as u128, rng.below(members) as u128))
            .collect();
        let seeds: Vec<u128> = (0..10).map(|k| k * 1000).collect();
        let result = run(&graph(&seeds, &meetings, &[7, 77, 777]));
        assert!(result.len() > seeds.len());
        assert!(result.len() <= 30 * seeds.len());
    }

    #[test]
    fn large_graph_with_many_seeds_completes() {
        // 100 seeds in a random graph of 20,000 members and 100,000 meetings.
        let members = 20_000u64;
        let mut rng = Lcg(7);
        let meetings: Vec<(u128, u128)> = (0..100_000)
            .map(|_| (rng.below(members) as u128, rng.below(members) as u128))
            .collect();
        let seeds: Vec<u128> = (0..100).map(|k| k * 200).collect();
        let result = trusted(&graph(&seeds, &meetings, &[]));
        assert!(result.len() > seeds.len());
        assert!(result.len() <= 30 * seeds.len());
    }

    #[test]
    fn long_chain_does_not_overflow_the_stack() {
        // 100,000 members in a chain, a seed every 9th: everyone within 4 meetings of a seed,
        // and every one of them trusted.
        let n = 100_000u128;
        let meetings: Vec<(u128, u128)> = (0..n - 1).map(|k| (k, k + 1)).collect();
        let seeds: Vec<u128> = (0..n).step_by(9).collect();
        let result = trusted(&graph(&seeds, &meetings, &[]));
        assert_eq!(result.len(), n as usize);

        // A single seed at one end: only the first five.
        assert_eq!(trusted(&graph(&[0], &meetings, &[])), ids(0..=4));
    }
}
