//! Members: signing up, logging in, verifying an email address.

use serde_json::{Value, json};

use super::*;

/// A signed-in member.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub const AUTH_FIELDS: &str =
    "accessToken accessTokenExpiresAt refreshToken user { id displayName }";

pub const REFRESH: &str = "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken refreshToken user { id } } }";

pub const VERIFY_EMAIL: &str =
    "mutation($code: String!) { verifyEmail(input: { code: $code }) { id } }";

impl TestApp {
    pub async fn sign_up(&self, email: &str, name: &str) -> Member {
        let body = self
            .graphql(
                None,
                &format!(
                    "mutation($input: SignUpInput!) {{ signUp(input: $input) {{ {AUTH_FIELDS} }} }}"
                ),
                json!({ "input": { "email": email, "password": PASSWORD, "displayName": name } }),
            )
            .await;
        member_from(&body["data"]["signUp"], email)
            .unwrap_or_else(|| panic!("sign-up failed: {body}"))
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Value {
        self.graphql(
            None,
            &format!(
                "mutation($input: LogInInput!) {{ logIn(input: $input) {{ {AUTH_FIELDS} }} }}"
            ),
            json!({ "input": { "email": email, "password": password } }),
        )
        .await
    }

    /// Logs in from a device that sends this `User-Agent`.
    pub async fn log_in_from(&self, email: &str, password: &str, agent: &str) -> Member {
        let body: Value = self
            .client
            .post(self.url("/graphql"))
            .header("User-Agent", agent)
            .json(&json!({
                "query": format!("mutation($input: LogInInput!) {{ logIn(input: $input) {{ {AUTH_FIELDS} }} }}"),
                "variables": { "input": { "email": email, "password": password } },
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        member_from(&body["data"]["logIn"], email).unwrap_or_else(|| panic!("{body}"))
    }

    /// Asks for a verification code and reads it from the mail.
    pub async fn request_code(&self, member: &Member) -> String {
        let before = self.mails_to(&member.email).len();
        let body = self
            .graphql(
                Some(&member.access_token),
                "mutation { requestEmailVerification }",
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["requestEmailVerification"], true, "{body}");
        // The code goes out right after the answer.
        let mail = self.wait_for_mail_to(&member.email, before).await;
        code_in(&mail)
    }

    /// Requests a code and enters it: the member's email is verified.
    pub async fn verify_email(&self, member: &Member) {
        let code = self.request_code(member).await;
        let body = self
            .graphql(
                Some(&member.access_token),
                VERIFY_EMAIL,
                json!({ "code": code }),
            )
            .await;
        assert_eq!(
            body["data"]["verifyEmail"]["id"],
            member.id.as_str(),
            "{body}"
        );
    }

    /// A signed-up member with a verified email, who may create groups.
    pub async fn verified_member(&self, email: &str, name: &str) -> Member {
        let member = self.sign_up(email, name).await;
        self.verify_email(&member).await;
        member
    }
}

pub fn member_from(payload: &Value, email: &str) -> Option<Member> {
    Some(Member {
        id: payload["user"]["id"].as_str()?.to_owned(),
        email: email.to_owned(),
        access_token: payload["accessToken"].as_str()?.to_owned(),
        refresh_token: payload["refreshToken"].as_str()?.to_owned(),
    })
}

/// A six-digit code that is not `code`.
pub fn wrong_code(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}
