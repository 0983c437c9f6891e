//! A unit's own quiet hours for reminders by SMS (issue 19, `units.sms_quiet_hours`): '' for
//! the configured default, `off`, or `FROM-TO` local hours. Kept out of the unit's versions:
//! it is a setting for texts, not part of what the unit is.

use super::{StoreError, Tx};

/// The unit's setting ('' when the unit is unknown or follows the default).
pub async fn get<'c, E>(conn: E, code: &str) -> Result<String, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let v: Option<String> = sqlx::query_scalar("SELECT sms_quiet_hours FROM units WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?;
    Ok(v.unwrap_or_default())
}

/// Every unit's setting that is not the default, by code.
pub async fn all(
    pool: &sqlx::AnyPool,
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT code, sms_quiet_hours FROM units WHERE sms_quiet_hours <> ''")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Sets the unit's setting.
pub async fn set(tx: &mut Tx, code: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE units SET sms_quiet_hours = $2 WHERE code = $1")
        .bind(code)
        .bind(value)
        .execute(tx.conn())
        .await?;
    Ok(())
}
