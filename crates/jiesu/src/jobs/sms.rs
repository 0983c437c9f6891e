//! The Kannel sender: each outbox message goes to smsbox's `sendsms` HTTP interface as one
//! SMS (UCS-2, so Chinese arrives whole), asking for delivery reports (`dlr-mask` 31) at
//! `/api/v1/sms/dlr` with the message id, the idempotency key the gateway sees. Phone numbers
//! and the password never reach the log: errors are logged without their URL.

use crate::config::KannelConfig;
use crate::store::outbox::{OutboxMessage, Sender};
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::pin::Pin;

/// Sends through Kannel's `sendsms`.
pub struct KannelSender {
    config: KannelConfig,
    /// The delivery-report URL up to the message id (secret included), when reports are
    /// wanted (`JIESU_SMS_CALLBACK_URL` set).
    dlr_base: Option<SecretString>,
    client: reqwest::Client,
}

impl KannelSender {
    /// A sender through `config`; reports come back to `callback_url` with `secret`.
    pub fn new(
        config: KannelConfig,
        callback_url: Option<&str>,
        secret: Option<&SecretString>,
    ) -> Self {
        let dlr_base = callback_url.map(|base| {
            let secret: String = form_urlencoded::byte_serialize(
                secret.map_or("", |s| s.expose_secret()).as_bytes(),
            )
            .collect();
            SecretString::from(format!(
                "{}/api/v1/sms/dlr?secret={secret}&id=",
                base.trim_end_matches('/')
            ))
        });
        // A gateway that is down refuses at once; one that does not answer the connection
        // must not hold a batch for the whole timeout.
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(3))
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("http client");
        KannelSender {
            config,
            dlr_base,
            client,
        }
    }

    /// The sendsms URL for one message.
    fn url(&self, msg: &OutboxMessage) -> String {
        let text = msg.payload["sms"]
            .as_str()
            .or_else(|| msg.payload["text"].as_str())
            .unwrap_or_default();
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("username", &self.config.username)
            .append_pair("password", self.config.password.expose_secret())
            .append_pair("from", &self.config.from)
            .append_pair("to", &msg.recipient)
            .append_pair("text", text)
            .append_pair("charset", "UTF-8")
            .append_pair("coding", "2");
        if let Some(base) = &self.dlr_base {
            // Kannel fills %d with the report's code (1 delivered, 2 failed, 8 at the SMSC…).
            let dlr = format!("{}{}&status=%d", base.expose_secret(), msg.id);
            q.append_pair("dlr-mask", "31").append_pair("dlr-url", &dlr);
        }
        let sep = if self.config.url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}{}", self.config.url, q.finish())
    }
}

impl Sender for KannelSender {
    fn send<'a>(
        &'a self,
        msg: &'a OutboxMessage,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let resp = self
                .client
                .get(self.url(msg))
                .send()
                .await
                .map_err(|e| e.without_url().to_string())?;
            let status = resp.status();
            // 202 "0: Accepted for delivery" or "3: Queued for later delivery".
            if status.is_success() {
                Ok(())
            } else {
                let body = resp.text().await.unwrap_or_default();
                Err(format!(
                    "kannel answered {status}: {}",
                    body.chars().take(200).collect::<String>()
                ))
            }
        })
    }
}
