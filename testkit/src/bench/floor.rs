//! The Postgres floor of `benches/servers.rs` and `benches/peers`: the same client doing one raw
//! `SELECT` and one `UPDATE` of a session's bytes, with the change the benches make (one field).

use std::sync::Arc;

use super::concurrent::Request;
use super::workload::{workload, Workload};

/// The bench's change to a session's bytes: `user_id` plus one.
#[must_use]
pub fn change(bytes: &[u8]) -> Vec<u8> {
    let mut data: Workload = serde_json::from_slice(bytes).expect("the floor's own JSON");
    data.user_id += 1;
    serde_json::to_vec(&data).expect("a workload serializes")
}

/// One row of `table` (created if missing) per concurrent task, holding the workload's JSON;
/// a request reads its task's row and writes it back changed.
///
/// # Panics
///
/// When the server refuses the table or its rows: a bench has nothing to measure then.
pub async fn postgres(pool: sqlx::PgPool, table: &'static str) -> Request {
    let (select, update) = prepare(&pool, table).await;
    Arc::new(move |task| {
        let (pool, select, update) = (pool.clone(), select.clone(), update.clone());
        Box::pin(async move {
            let id = i32::try_from(task).expect("64 tasks");
            let bytes: Vec<u8> = sqlx::query_scalar(&select)
                .bind(id)
                .fetch_one(&pool)
                .await
                .expect("the floor's row");
            sqlx::query(&update)
                .bind(change(&bytes))
                .bind(id)
                .execute(&pool)
                .await
                .expect("the floor's write");
        })
    })
}

/// [`postgres`] on 16 plain connections (one statement at a time each, task `n` reading on
/// connection `n % 16` and writing on the next), with none of a pool's work: no test of a
/// connection after use.
///
/// # Panics
///
/// As [`postgres`], and when a connection cannot be opened.
pub async fn postgres_plain(url: &str, table: &'static str) -> Request {
    use sqlx::Connection as _;
    let pool = sqlx::PgPool::connect(url).await.expect("the server");
    let (select, update) = prepare(&pool, table).await;
    let mut connections = Vec::new();
    for _ in 0..16 {
        let connection = sqlx::PgConnection::connect(url)
            .await
            .expect("a connection");
        connections.push(tokio::sync::Mutex::new(connection));
    }
    let connections = Arc::new(connections);
    Arc::new(move |task| {
        let (connections, select, update) = (connections.clone(), select.clone(), update.clone());
        Box::pin(async move {
            let id = i32::try_from(task).expect("64 tasks");
            let bytes: Vec<u8> = {
                let mut connection = connections[task % 16].lock().await;
                sqlx::query_scalar(&select)
                    .bind(id)
                    .fetch_one(&mut *connection)
                    .await
                    .expect("the floor's row")
            };
            let mut connection = connections[(task + 1) % 16].lock().await;
            sqlx::query(&update)
                .bind(change(&bytes))
                .bind(id)
                .execute(&mut *connection)
                .await
                .expect("the floor's write");
        })
    })
}

/// Creates `table` with one row per task; the floor's `SELECT` and `UPDATE`.
async fn prepare(pool: &sqlx::PgPool, table: &str) -> (Arc<str>, Arc<str>) {
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {table} (id INT PRIMARY KEY, payload BYTEA NOT NULL)"
    ))
    .execute(pool)
    .await
    .expect("the floor's table");
    let json = serde_json::to_vec(&workload()).expect("a workload serializes");
    for task in 0..64i32 {
        sqlx::query(&format!(
            "INSERT INTO {table} VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET payload = $2"
        ))
        .bind(task)
        .bind(&json)
        .execute(pool)
        .await
        .expect("the floor's rows");
    }
    (
        format!("SELECT payload FROM {table} WHERE id = $1").into(),
        format!("UPDATE {table} SET payload = $1 WHERE id = $2").into(),
    )
}
