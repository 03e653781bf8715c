//! Macro misuse is reported with spanned errors; correct uses compile
//! without warnings.

#[test]
fn macro_errors_and_accepted_shapes() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
