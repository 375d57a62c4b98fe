//! The one mail interface, with three transports chosen by configuration: the log,
//! a folder of `.eml` files (`KITH_MAIL_DIR`), or SMTP (`KITH_SMTP_URL`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailTransport;

/// One plain-text message to one member.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

enum Transport {
    Log,
    Dir(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Arc<Transport>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(transport: &MailTransport, from: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from.parse().context("KITH_MAIL_FROM is not a mailbox")?;
        let transport = match transport {
            MailTransport::Log => Transport::Log,
            MailTransport::Dir(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("KITH_MAIL_DIR: cannot create {}", dir.display()))?;
                Transport::Dir(dir.clone())
            }
            MailTransport::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("KITH_SMTP_URL")?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
        };
        Ok(Mailer {
            transport: Arc::new(transport),
            from,
        })
    }

    fn message(&self, mail: &Mail) -> anyhow::Result<Message> {
        Ok(Message::builder()
            .from(self.from.clone())
            .to(mail.to.parse().context("recipient is not a mailbox")?)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())?)
    }

    /// Sends, and logs a failure: for mail nobody waits on.
    pub(crate) async fn send_or_log(&self, mail: Mail) {
        let subject = mail.subject.clone();
        if let Err(err) = self.send(mail).await {
            tracing::error!(error = %format!("{err:#}"), subject, "mail not sent");
        }
    }

    pub(crate) async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        match &*self.transport {
            Transport::Log => {
                tracing::info!(to = %mail.to, subject = %mail.subject, body = %mail.body, "mail (KITH_MAIL_DIR and KITH_SMTP_URL unset, so logged)");
            }
            Transport::Dir(dir) => {
                let bytes = self.message(&mail)?.formatted();
                let name = uuid::Uuid::now_v7();
                // Written whole under a temporary name, then renamed: a reader never sees half a message.
                let partial = dir.join(format!(".{name}.tmp"));
                tokio::fs::write(&partial, bytes)
                    .await
                    .context("writing mail")?;
                tokio::fs::rename(&partial, dir.join(format!("{name}.eml")))
                    .await
                    .context("writing mail")?;
            }
            Transport::Smtp(smtp) => {
                smtp.send(self.message(&mail)?)
                    .await
                    .context("sending mail over SMTP")?;
            }
        }
        Ok(())
    }
}
