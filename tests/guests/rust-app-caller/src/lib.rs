//! Calls other entries of the app through `morph:app/funcs`: `relay` passes a call on as it
//! is given; `again` calls the entry named `again` (itself), a cycle the host must end.

wit_bindgen::generate!({
    inline: "
        package test:caller;
        world caller {
            import morph:app/funcs@0.1.0;
            export relay: func(name: string, args: string) -> result<string, string>;
            export again: func() -> result<string, string>;
        }
    ",
    path: "../../../wit/morph-app.wit",
    world: "test:caller/caller",
    generate_all,
});

use morph::app::funcs::call;

struct Caller;

impl Guest for Caller {
    fn relay(name: String, args: String) -> Result<String, String> {
        call(&name, &args)
    }

    fn again() -> Result<String, String> {
        call("again", "[]")
    }
}

export!(Caller);
