//! The interest taxonomy shipped with the server: (category, name). Slugs and IDs derive from
//! the name, so they are the same in every installation; add to the end, never rename.

pub const TAXONOMY: &[(&str, &[&str])] = &[
    (
        "Outdoors",
        &[
            "Hiking",
            "Climbing",
            "Cycling",
            "Running",
            "Camping",
            "Kayaking",
            "Birdwatching",
            "Trail Running",
            "Surfing",
            "Foraging",
        ],
    ),
    (
        "Sports & Fitness",
        &[
            "Yoga",
            "Football",
            "Basketball",
            "Tennis",
            "Badminton",
            "Swimming",
            "Table Tennis",
            "Volleyball",
            "Martial Arts",
            "Dance Fitness",
        ],
    ),
    (
        "Arts & Crafts",
        &[
            "Painting",
            "Drawing",
            "Pottery",
            "Knitting",
            "Sewing",
            "Photography",
            "Calligraphy",
            "Woodworking",
            "Jewellery Making",
            "Printmaking",
        ],
    ),
    (
        "Music",
        &[
            "Choir Singing",
            "Guitar",
            "Piano",
            "Jazz",
            "Classical Music",
            "Songwriting",
            "DJing",
            "Drumming",
            "Open Mic",
            "Folk Music",
        ],
    ),
    (
        "Food & Drink",
        &[
            "Cooking",
            "Baking",
            "Vegan Cooking",
            "Wine Tasting",
            "Craft Beer",
            "Coffee",
            "Fermentation",
            "Supper Clubs",
            "Street Food",
            "Tea",
        ],
    ),
    (
        "Technology",
        &[
            "Programming",
            "Rust",
            "Web Development",
            "Data Science",
            "Artificial Intelligence",
            "Open Source",
            "Hardware Hacking",
            "Game Development",
            "Cybersecurity",
            "3D Printing",
        ],
    ),
    (
        "Games",
        &[
            "Board Games",
            "Chess",
            "Tabletop Role-Playing",
            "Video Games",
            "Card Games",
            "Puzzles",
            "Go",
            "Trivia Nights",
            "Escape Rooms",
            "Bridge",
        ],
    ),
    (
        "Language & Culture",
        &[
            "Language Exchange",
            "Spanish",
            "French",
            "German",
            "Japanese",
            "Book Club",
            "Poetry",
            "Creative Writing",
            "History",
            "Philosophy",
        ],
    ),
    (
        "Community & Causes",
        &[
            "Volunteering",
            "Environmental Action",
            "Repair Cafés",
            "Community Gardening",
            "Mentoring",
            "Animal Welfare",
            "Neighbourhood Clean-ups",
            "Food Sharing",
            "Civic Tech",
            "Refugee Support",
        ],
    ),
    (
        "Life & Social",
        &[
            "New in Town",
            "Parents",
            "Dog Owners",
            "Seniors",
            "Students",
            "Expats",
            "LGBTQ+",
            "Singles",
            "Board Game Cafés",
            "Walking Groups",
        ],
    ),
    (
        "Wellbeing",
        &[
            "Meditation",
            "Mindfulness",
            "Mental Health Support",
            "Breathwork",
            "Tai Chi",
            "Pilates",
            "Nutrition",
            "Journaling",
            "Cold Water Swimming",
            "Forest Bathing",
        ],
    ),
    (
        "Business & Career",
        &[
            "Entrepreneurship",
            "Startups",
            "Freelancing",
            "Public Speaking",
            "Networking",
            "Product Management",
            "Design",
            "Marketing",
            "Personal Finance",
            "Investing",
        ],
    ),
    (
        "Film & Stage",
        &[
            "Film Club",
            "Theatre",
            "Improv",
            "Stand-up Comedy",
            "Musicals",
            "Documentaries",
            "Opera",
            "Ballet",
            "Anime",
            "Screenwriting",
        ],
    ),
];

/// A URL-safe slug: lower-case ASCII letters and digits joined by hyphens.
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        let c = match c {
            'é' | 'è' => 'e',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// The stable ID of an interest, from its slug.
pub fn id(slug: &str) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b69_7468_2d69_6e74_6572_6573_7473_0001);
    uuid::Uuid::new_v5(&NAMESPACE, slug.as_bytes())
}
