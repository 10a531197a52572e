//! A Durable Object's record of the keys it has acted on (the event ids a profile object
//! applied, the events the stats object counted), in the object's SQLite storage.
//!
//! SQLite calls are synchronous: nothing else runs between a check and the write after it.
//! Keys are kept for a time and up to a count, which bounds the table; a key forgotten is a
//! key the object may act on again.

use worker::{Date, Result, SqlStorage, SqlStorageValue, Storage};

pub struct Ledger {
    sql: SqlStorage,
    /// The table and its key column.
    table: &'static str,
    column: &'static str,
}

#[derive(serde::Deserialize)]
struct Count {
    n: i64,
}

fn now() -> i64 {
    Date::now().as_millis() as i64
}

impl Ledger {
    /// The ledger in `table` (key column `column`), pruned to the keys of the last `keep_ms`
    /// milliseconds, at most `keep` of them.
    pub fn open(
        storage: &Storage,
        table: &'static str,
        column: &'static str,
        keep_ms: i64,
        keep: i64,
    ) -> Result<Ledger> {
        let sql = storage.sql();
        sql.exec(
            &format!("CREATE TABLE IF NOT EXISTS {table} ({column} TEXT PRIMARY KEY, at INTEGER NOT NULL)"),
            None,
        )?;
        sql.exec(
            &format!("DELETE FROM {table} WHERE at < ?"),
            vec![SqlStorageValue::Integer(now() - keep_ms)],
        )?;
        sql.exec(
            &format!(
                "DELETE FROM {table} WHERE {column} IN \
                 (SELECT {column} FROM {table} ORDER BY at DESC LIMIT -1 OFFSET ?)"
            ),
            vec![SqlStorageValue::Integer(keep)],
        )?;
        Ok(Ledger { sql, table, column })
    }

    /// Whether `key` is recorded.
    pub fn has(&self, key: &str) -> Result<bool> {
        let (table, column) = (self.table, self.column);
        let query = format!("SELECT count(*) AS n FROM {table} WHERE {column} = ?");
        let count: Count = self.sql.exec(&query, vec![key.into()])?.one()?;
        Ok(count.n > 0)
    }

    /// Records `key` (again: it stays once).
    pub fn add(&self, key: &str) -> Result<()> {
        let (table, column) = (self.table, self.column);
        let query = format!("INSERT OR IGNORE INTO {table} ({column}, at) VALUES (?, ?)");
        self.sql.exec(&query, vec![key.into(), SqlStorageValue::Integer(now())])?;
        Ok(())
    }
}
