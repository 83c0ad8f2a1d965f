//! Outgoing mail (personal invites, "forgot your password" links) through SMTP when configured.
//! Without SMTP, invites wait in the outbox: Owners and Administrators list them with their
//! links and pass them on. Set-password links are never put there.

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{Result, ServiceError};

/// Where and as whom mail is sent.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (plain, for a local relay), `smtp://host:587?tls=required`
    /// (STARTTLS) or `smtps://user:password@host` (TLS).
    pub smtp_url: String,
    pub from: String,
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// One message to send.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    pub fn new(cfg: &MailConfig) -> Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&cfg.smtp_url)
            .map_err(|e| ServiceError::Internal(format!("ROSTER_SMTP_URL is not valid: {e}")))?
            .build();
        let from = cfg.from.parse::<Mailbox>().map_err(|e| {
            ServiceError::Internal(format!("ROSTER_MAIL_FROM is not a valid address: {e}"))
        })?;
        Ok(Mailer { transport, from })
    }

    pub async fn send(&self, mail: Mail) -> Result<()> {
        let to = mail
            .to
            .parse::<Mailbox>()
            .map_err(|e| ServiceError::Internal(format!("bad recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|e| ServiceError::Internal(format!("cannot build the message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| ServiceError::Internal(format!("SMTP delivery failed: {e}")))?;
        Ok(())
    }
}
