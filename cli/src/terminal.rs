//! Text a guest controls (log messages, agent errors, ids, stderr), made
//! safe to print: control characters and bidirectional overrides become
//! visible escapes, so a guest can neither clear the screen nor recolour or
//! reorder what the terminal shows.

/// `text` with every control character except newline and tab (and every
/// bidirectional formatting character) written as `\u{..}`.
pub fn safe(text: &str) -> String {
    escape(text, |c| c == '\n' || c == '\t')
}

/// `text` on one line: newlines and tabs escaped too.
pub fn safe_line(text: &str) -> String {
    escape(text, |_| false)
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}');
        if (c.is_control() || bidi) && !keep(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_overrides_are_shown_not_obeyed() {
        assert_eq!(safe("a\u{1b}[2Jb\nc\td"), "a\\u{1b}[2Jb\nc\td");
        assert_eq!(safe_line("a\nhint: x\r"), "a\\u{a}hint: x\\u{d}");
        assert_eq!(safe("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(safe("plain text, ünïcode"), "plain text, ünïcode");
    }
}
