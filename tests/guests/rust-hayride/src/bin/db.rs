//! `db NAME`: opens NAME, makes a table with a column per kind of value, writes every db-value
//! case through a prepared statement, reads them back, and tries a transaction that is rolled
//! back, one that commits, and the error cases. Prints each step. A `postgres://` NAME gets
//! PostgreSQL's column types and `$n` placeholders.
wit_bindgen::generate!({ path: "wit", world: "db-probe", generate_all });

use hayride::db::db::{self, Connection};
use hayride::db::types::{DbValue, IsolationLevel};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| ":memory:".into());
    let conn = match db::open(&name) {
        Ok(c) => c,
        Err(e) => {
            println!("open: {:?}: {}", e.code(), e.data());
            return;
        }
    };
    let pg = name.starts_with("postgres");
    let ph = |n: usize| if pg { format!("${n}") } else { "?".to_string() };
    if pg {
        exec(&conn, "CREATE TABLE IF NOT EXISTS v (i32 INTEGER, i64 BIGINT, u32 BIGINT, u64 BIGINT, \
                     f REAL, d DOUBLE PRECISION, s TEXT, b BOOLEAN, day DATE, at TIME, ts TIMESTAMP, bin BYTEA, n TEXT)");
    } else {
        exec(&conn, "CREATE TABLE IF NOT EXISTS v (i32 INTEGER, i64 INTEGER, u32 INTEGER, u64 INTEGER, \
                     f FLOAT, d DOUBLE, s TEXT, b BOOLEAN, day DATE, at TIME, ts TIMESTAMP, bin BLOB, n TEXT)");
    }
    let marks: Vec<String> = (1..=13).map(ph).collect();
    let insert = conn.prepare(&format!("INSERT INTO v VALUES ({})", marks.join(", "))).unwrap();
    println!("parameters: {}", insert.number_parameters());
    let row = vec![
        DbValue::Int32(-32),
        DbValue::Int64(-64),
        DbValue::Uint32(32),
        DbValue::Uint64(64),
        DbValue::Float(1.5),
        DbValue::Double(2.25),
        DbValue::Str("text".into()),
        DbValue::Boolean(true),
        DbValue::Date("2026-11-28".into()),
        DbValue::Time("12:34:56".into()),
        DbValue::Timestamp("2026-11-28T12:34:56Z".into()),
        DbValue::Binary(vec![0, 1, 255]),
        DbValue::Null,
    ];
    println!("insert: {:?}", insert.execute(&row).map_err(|e| e.data()));
    println!("too few: {:?}", insert.execute(&row[..2]).map_err(|e| e.code()));
    println!("u64 too big: {:?}", insert.execute(&{
        let mut r = row.clone();
        r[3] = DbValue::Uint64(u64::MAX);
        r
    }).map_err(|e| e.code()));
    let select = conn.prepare("SELECT * FROM v").unwrap();
    let rows = select.query(&[]).unwrap();
    println!("columns: {:?}", rows.columns());
    loop {
        match rows.next() {
            Ok(r) => println!("row: {r:?}"),
            Err(e) => {
                println!("next: {:?}", e.code());
                break;
            }
        }
    }
    let tx = conn.begin_transaction(IsolationLevel::Serializable, false).unwrap();
    println!("tx insert: {:?}", tx.execute(&format!("INSERT INTO v (s) VALUES ({})", ph(1)), &[DbValue::Str("rolled back".into())]).map_err(|e| e.data()));
    println!("rollback: {:?}", tx.rollback().map_err(|e| e.data()));
    println!("after rollback: {}", count(&conn));
    let tx = conn.begin_transaction(IsolationLevel::ReadCommitted, false).unwrap();
    let _ = tx.execute(&format!("INSERT INTO v (s) VALUES ({})", ph(1)), &[DbValue::Str("kept".into())]);
    println!("commit: {:?}", tx.commit().map_err(|e| e.data()));
    println!("after commit: {}", count(&conn));
    match conn.prepare("SELEKT nonsense") {
        Ok(_) => println!("bad sql: prepared"),
        Err(e) => println!("bad sql: {:?}", e.code()),
    }
}

fn exec(conn: &Connection, sql: &str) {
    let st = conn.prepare(sql).unwrap();
    println!("exec: {:?}", st.execute(&[]).map_err(|e| e.data()));
}

fn count(conn: &Connection) -> String {
    let rows = conn.prepare("SELECT count(*) FROM v").unwrap().query(&[]).unwrap();
    // SQLite's count is an INTEGER, PostgreSQL's a BIGINT: both come back as int64.
    format!("{:?}", rows.next().map_err(|e| e.code()))
}
