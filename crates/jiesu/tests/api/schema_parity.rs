//! The two migration trees must define the same tables and columns.

use crate::helpers::fresh_postgres;
use std::collections::BTreeSet;

#[tokio::test]
async fn sqlite_and_postgres_schemas_have_the_same_tables_and_columns() {
    let Some((pg_url, name)) = fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let opts = jiesu::store::SqliteOptions {
        synchronous: "NORMAL".into(),
    };
    let sqlite = jiesu::store::Store::open(
        &format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display()),
        &opts,
    )
    .await
    .unwrap();
    let pg = jiesu::store::Store::open(&pg_url, &opts).await.unwrap();
    let lite: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
    )
    .fetch_all(sqlite.reader())
    .await
    .unwrap();
    let post: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pg.reader())
    .await
    .unwrap();
    let lite: BTreeSet<_> = lite.into_iter().collect();
    let post: BTreeSet<_> = post.into_iter().collect();
    assert!(lite.len() > 50, "columns found: {}", lite.len());
    assert_eq!(lite, post, "the migration trees differ");
    sqlite.close().await;
    pg.close().await;
    crate::helpers::drop_postgres(name);
}
