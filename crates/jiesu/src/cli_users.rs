//! `jiesu user export|import`: the user table from the console. `export [--format csv|xlsx]
//! [--out FILE]` writes every user's `username,role,unit,active` (never a password or its
//! hash); `import FILE [--dry-run]` (CSV or xlsx by extension, the export's columns) adds the
//! users it does not know and disables or enables the ones it does, each change the users
//! API's event, all or nothing, and prints the counts. Each added user gets a random one-time
//! password, printed here once (`password NAME SECRET`) for the administrator to hand over. A
//! bad row exits 2 naming its row and column.

use crate::cli_table::{self, Format, Table};
use jiesu::services::accounts::{self, By};
use jiesu::services::user_import::{self, UserRow};
use jiesu::services::AppState;
use std::path::{Path, PathBuf};

/// The columns of an export and an import.
const COLUMNS: [&str; 4] = ["username", "role", "unit", "active"];

/// Writes every user as a table.
pub async fn export(state: &AppState, format: Format, out: Option<PathBuf>) -> anyhow::Result<()> {
    let all = accounts::list_users(state)
        .await
        .map_err(|e| crate::cli_args::Usage(e.message(true)))?;
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|u| {
            vec![
                u.username.clone(),
                u.role.as_str().to_string(),
                u.unit_code.clone().unwrap_or_default(),
                if u.active { "1" } else { "0" }.into(),
            ]
        })
        .collect();
    cli_table::write(&COLUMNS, &rows, format, out, "users")
}

/// Turns the table into import rows; a bad `active` is named by row and column.
fn import_rows(table: &[Vec<String>]) -> anyhow::Result<Vec<UserRow>> {
    let table = Table::new(table, &["username", "role"], &COLUMNS)?;
    let mut rows = Vec::new();
    for (n, r) in table.rows() {
        rows.push(UserRow {
            username: r.get("username"),
            role: r.get("role"),
            unit: r.get("unit"),
            active: r.flag(n, "active", true)?,
        });
    }
    Ok(rows)
}

/// Adds and changes users from a table file.
pub async fn import(state: &AppState, file: &Path, dry_run: bool) -> anyhow::Result<()> {
    let rows = import_rows(&cli_table::read(file)?)?;
    match user_import::import(state, By::Console, &rows, dry_run).await {
        Ok(done) => {
            cli_table::print_counts(&done.summary, dry_run);
            if !done.passwords.is_empty() {
                errln!("one-time passwords of the added users (shown once; hand each over and reset it with `jiesu user reset-password` if lost):");
            }
            for (name, password) in &done.passwords {
                outln!("password {name} {password}");
            }
            Ok(())
        }
        Err(e) => Err(cli_table::refused(&e)),
    }
}
