//! `jiesu open311`: Open311 client keys (add, revoke, list) and which categories are offered
//! as services (offer, withdraw, back to the default).

use crate::cli_args::Usage;
use clap::{Subcommand, ValueEnum};
use jiesu::config::Config;
use jiesu::services::open311::{self, keys};
use std::sync::Arc;

/// The console, named on the events of what it changes.
const BY: &str = "console";

#[derive(Subcommand)]
pub enum Open311Command {
    /// Client keys (api_key).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Offer a category as a service, withdraw it, or go back to the default (public,
    /// non-enterprise leaf categories are offered).
    Service {
        /// The category code (`service_code`).
        code: String,
        /// What to do.
        action: OfferAction,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Make a key for a client; the key is printed once and cannot be shown again.
    Add {
        /// The client's name, recorded on the requests it creates.
        #[arg(long)]
        name: String,
    },
    /// Revoke a key by its id.
    Revoke {
        /// The key's id (`jiesu open311 key list`).
        id: String,
    },
    /// List the keys (never the keys themselves).
    List,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OfferAction {
    /// Offer it.
    Offer,
    /// Withdraw it.
    Withdraw,
    /// Back to the default.
    Default,
}

pub async fn run(config: Config, command: Open311Command) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(jiesu::clock::SystemClock)).await?;
    // A bad name, an unknown key id or category is a bad value on the command line: exit 2,
    // like every other command; anything else (the database) exits 1.
    let fail = |e: jiesu::error::AppError| -> anyhow::Error {
        let fields: Vec<String> = e
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message_en))
            .collect();
        let message = format!("{} {}", e.message(true), fields.join("; "));
        match e {
            jiesu::error::AppError::Invalid(_)
            | jiesu::error::AppError::Malformed(..)
            | jiesu::error::AppError::NotFound(_)
            | jiesu::error::AppError::Conflict(_) => Usage(message.trim_end().to_string()).into(),
            _ => anyhow::anyhow!(message),
        }
    };
    match command {
        Open311Command::Key {
            command: KeyCommand::Add { name },
        } => {
            let (id, key) = keys::add(&state, BY, &name).await.map_err(fail)?;
            outln!("key id {id} for {}", name.trim());
            outln!("api_key {key}");
        }
        Open311Command::Key {
            command: KeyCommand::Revoke { id },
        } => {
            keys::revoke(&state, BY, &id).await.map_err(fail)?;
            outln!("revoked {id}");
        }
        Open311Command::Key {
            command: KeyCommand::List,
        } => {
            outln!("{:<38} {:<24} {:<26} revoked", "id", "name", "created");
            for k in keys::list(&state).await.map_err(fail)? {
                outln!(
                    "{:<38} {:<24} {:<26} {}",
                    k.id,
                    k.name,
                    k.created_at.to_rfc3339(),
                    k.revoked_at.map_or("-".into(), |t| t.to_rfc3339())
                );
            }
        }
        Open311Command::Service { code, action } => {
            let offered = match action {
                OfferAction::Offer => Some(true),
                OfferAction::Withdraw => Some(false),
                OfferAction::Default => None,
            };
            open311::set_offer(&state, BY, &code, offered)
                .await
                .map_err(fail)?;
            outln!(
                "{code}: {}",
                match action {
                    OfferAction::Offer => "offered",
                    OfferAction::Withdraw => "withdrawn",
                    OfferAction::Default => "default",
                }
            );
        }
    }
    state.store.close().await;
    Ok(())
}
