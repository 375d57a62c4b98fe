//! Mail: what the app wrote to its mail folder, and what it says.

use super::*;

/// The six-digit code in a mail's body.
pub fn code_in(mail: &str) -> String {
    let body = mail
        .split("\r\n\r\n")
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    regex_lite::Regex::new(r"\b(\d{6})\b")
        .unwrap()
        .captures(&body)
        .expect("a six-digit code in the mail")[1]
        .to_owned()
}

/// Whether the mail's header says it goes to exactly this address.
fn is_to(mail: &str, to: &str) -> bool {
    let head = mail.split("\r\n\r\n").next().unwrap_or("");
    let wanted = format!("To: {to}");
    head.lines().any(|line| line.eq_ignore_ascii_case(&wanted))
}

impl TestApp {
    /// Every mail written so far, oldest first, as raw RFC 5322 text.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(&self.mail_dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Every mail written so far to exactly this address, oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<String> {
        self.mails().into_iter().filter(|m| is_to(m, to)).collect()
    }

    /// Waits (at most 5 s) until more than `count_before` mails to `to` were written, and
    /// returns the newest: some mail goes out after the answer, in the background.
    pub async fn wait_for_mail_to(&self, to: &str, count_before: usize) -> String {
        for _ in 0..250 {
            let mut mails = self.mails_to(to);
            if mails.len() > count_before {
                return mails.pop().unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no new mail to {to} within 5 s (there were {count_before} before)");
    }
}

/// A mail's body as text: decoded when it was sent quoted-printable (long lines are, and
/// their soft line breaks could split an address).
pub fn mail_text(mail: &str) -> String {
    let (head, body) = mail.split_once("\r\n\r\n").unwrap_or(("", mail));
    if !head
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: quoted-printable")
    {
        return body.to_owned();
    }
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl TestApp {
    /// How many mails to exactly `to` so far contain `text`.
    pub fn count_mails(&self, to: &str, text: &str) -> usize {
        self.mails_to(to)
            .iter()
            .filter(|m| m.contains(text))
            .count()
    }

    /// Waits (at most 5 s) for a mail to `to` that contains `text`: mail goes out after
    /// the answer, in the background.
    pub async fn mail_arrives(&self, to: &str, text: &str) -> bool {
        for _ in 0..100 {
            if self.count_mails(to, text) > 0 {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }
}
