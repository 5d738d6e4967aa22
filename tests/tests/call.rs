//! `morph call` end to end: every WIT type through JSON both ways, WAVE, names, errors.

mod common;

use common::*;

/// One home for every call in this file, so the fixture is compiled once and then cached.
fn shared_home() -> &'static std::path::Path {
    static HOME: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn call(args: &[&str]) -> Run {
    let f = fixture("types.wat");
    let mut all = vec!["call", path_str(&f)];
    all.extend_from_slice(args);
    morph_in(shared_home(), &all)
}

fn roundtrip(func: &str, json: &str) -> String {
    let r = call(&[func, json]);
    assert_eq!(r.code, 0, "{func} {json}: {r:?}");
    r.stdout.trim().to_string()
}

#[test]
fn every_type_round_trips_through_json() {
    let cases = [
        ("echo-bool", "true"),
        ("echo-s8", "-128"),
        ("echo-u8", "255"),
        ("echo-s16", "-32768"),
        ("echo-u16", "65535"),
        ("echo-s32", "-2147483648"),
        ("echo-u32", "4294967295"),
        ("echo-s64", "-9223372036854775808"),
        ("echo-u64", "18446744073709551615"),
        ("echo-f32", "1.5"),
        ("echo-f64", "-0.25"),
        ("echo-char", "\"λ\""),
        ("echo-string", "\"hello, wörld\""),
        ("echo-list", "[1,2,3]"),
        ("echo-strings", "[\"a\",\"\",\"c\"]"),
        ("echo-record", "{\"name\":\"ann\",\"age\":7}"),
        ("echo-people", "[{\"name\":\"a\",\"age\":1},{\"name\":\"b\",\"age\":2}]"),
        ("echo-tuple", "[5,\"five\"]"),
        ("echo-variant", "{\"circle\":3}"),
        ("echo-variant", "{\"rect\":[3,4]}"),
        ("echo-variant", "\"dot\""),
        ("echo-enum", "\"green\""),
        ("echo-flags", "[\"read\",\"exec\"]"),
        ("echo-flags", "[]"),
        ("echo-option", "\"some\""),
        ("echo-option", "null"),
        ("echo-option-u32", "9"),
        ("echo-result", "{\"ok\":\"fine\"}"),
        ("echo-result", "{\"err\":404}"),
        ("echo-unit-result", "{\"ok\":null}"),
        ("echo-unit-result", "{\"err\":null}"),
        ("echo-nested", "{\"tags\":[\"x\",\"y\"],\"rank\":null}"),
    ];
    for (func, json) in cases {
        assert_eq!(roundtrip(func, json), json, "{func}");
    }
}

#[test]
fn special_floats_are_strings() {
    assert_eq!(roundtrip("echo-f64", "\"NaN\""), "\"NaN\"");
    assert_eq!(roundtrip("echo-f64", "\"inf\""), "\"inf\"");
    assert_eq!(roundtrip("echo-f32", "\"-inf\""), "\"-inf\"");
}

#[test]
fn names_by_function_interface_and_full_path() {
    assert_eq!(roundtrip("echo#echo-u8", "1"), "1");
    assert_eq!(roundtrip("test:types/echo#echo-u8", "2"), "2");
    assert_eq!(roundtrip("test:types/echo@0.1.0#echo-u8", "3"), "3");
    let r = call(&["add", "2", "3"]);
    assert_eq!(r.stdout.trim(), "5");
}

#[test]
fn unknown_names_list_the_exports_with_signatures() {
    let r = call(&["nope"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no export `nope`"), "{r:?}");
    assert!(r.stderr.contains("add: func(a: u32, b: u32) -> u32"), "{r:?}");
    assert!(
        r.stderr.contains("test:types/echo@0.1.0#echo-record: func(x: record { name: string, age: u32 })"),
        "{r:?}"
    );
}

#[test]
fn bad_arguments_name_the_path_and_exit_2() {
    let cases = [
        (vec!["echo-u8", "256"], "x: 256 is out of range for u8"),
        (vec!["echo-s8", "-129"], "out of range for s8"),
        (vec!["echo-u32", "-1"], "out of range for u32"),
        (vec!["echo-u32", "1.5"], "expected an integer"),
        (
            vec!["echo-people", "[{\"name\":\"a\",\"age\":1},{\"name\":\"b\",\"age\":\"x\"}]"],
            "x[1].age: expected an integer (u32), found a string",
        ),
        (vec!["echo-nested", "{\"tags\":[\"a\",3],\"rank\":null}"], "x.tags[1]: expected a string"),
        (vec!["echo-record", "{\"name\":\"a\"}"], "x.age: missing field"),
        (vec!["echo-record", "{\"name\":\"a\",\"age\":1,\"extra\":2}"], "unknown field `extra`"),
        (vec!["echo-enum", "\"purple\""], "unknown case `purple`"),
        (vec!["echo-variant", "{\"square\":1}"], "unknown case `square`"),
        (vec!["echo-variant", "\"circle\""], "needs a payload of type u32"),
        (vec!["echo-flags", "[\"fly\"]"], "unknown flag `fly`"),
        (vec!["echo-char", "\"ab\""], "expected one character"),
        (vec!["echo-tuple", "[1]"], "expected 2 elements"),
        (vec!["echo-result", "{\"maybe\":1}"], "\"ok\" or \"err\""),
        (vec!["add", "1"], "takes 2 argument(s), 1 given"),
        (vec!["echo-string", "not-json"], "argument 1 is not JSON"),
    ];
    for (args, says) in cases {
        let r = call(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(says), "{args:?} should say `{says}`: {r:?}");
    }
}

#[test]
fn resources_are_refused_with_the_reason() {
    let r = call(&["consume", "1"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("resource"), "{r:?}");
}

#[test]
fn arguments_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("person.json");
    std::fs::write(&f, "{\"name\": \"from file\", \"age\": 30}").unwrap();
    let r = call(&["echo-record", &format!("@{}", path_str(&f))]);
    assert_eq!(r.stdout.trim(), "{\"name\":\"from file\",\"age\":30}", "{r:?}");
}

#[test]
fn wave_in_and_out() {
    let r = call(&["--wave", "echo-record", "{name: \"ann\", age: 7}"]);
    assert_eq!(r.stdout.trim(), "{name: \"ann\", age: 7}", "{r:?}");
    let r = call(&["--wave", "echo-variant", "rect((3, 4))"]);
    assert_eq!(r.stdout.trim(), "rect((3, 4))", "{r:?}");
    let r = call(&["--wave", "echo-u8", "300"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn traps_and_limits_in_calls() {
    let r = call(&["trap"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("the morph trapped") && r.stderr.contains("unreachable"), "{r:?}");
    let r = call(&["spin", "--timeout", "300ms"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--timeout"), "{r:?}");
    let r = call(&["spin", "--fuel", "100000"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--fuel"), "{r:?}");
    let r = call(&["grow", "--max-memory", "2MiB"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("--max-memory 2MiB"), "{r:?}");
}
