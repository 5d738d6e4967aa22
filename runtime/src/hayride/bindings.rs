//! Rust bindings of the Hayride host interfaces morph implements, generated from the contract's
//! own WIT (wit/*.wit): silo, wac, db and wasi:config. Every import is async (a spawned morph or
//! a database call must not block the guest's thread) and may trap (a resource-table failure).

wasmtime::component::bindgen!({
    inline: "
        package morph:host;
        world hayride-host {
            import hayride:silo/threads@0.0.65;
            import hayride:silo/process@0.0.65;
            import hayride:wac/wac@0.0.65;
            import hayride:db/db@0.0.65;
            import wasi:config/store@0.2.0-draft;
        }
    ",
    world: "morph:host/hayride-host",
    path: ["../wit/hayride-silo.wit", "../wit/hayride-wac.wit", "../wit/hayride-db.wit", "../wit/wasi-config.wit"],
    imports: { default: async | trappable },
    with: {
        "hayride:silo/threads.thread": super::threads::ThreadHandle,
        "hayride:wac/wac.error": super::wac::WacError,
        "hayride:db/db.error": super::db::DbError,
        "hayride:db/db.connection": super::db::Connection,
        "hayride:db/db.statement": super::db::Statement,
        "hayride:db/db.transaction": super::db::Transaction,
        "hayride:db/db.rows": super::db::Rows,
    },
});
