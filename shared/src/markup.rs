//! Text for HTML and XML documents we write by hand (the reply e-mail's HTML part, the
//! invoice's Factur-X XML): one escape that is valid in both.

/// `s` as element content or attribute value: the five markup characters as entities, and
/// control characters other than line breaks and tabs dropped (XML 1.0 cannot carry them).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_characters_become_entities_and_controls_go() {
        assert_eq!(
            escape("<a href=\"x\">M\u{fc}ller & S\u{f6}hne's</a>\u{7}\n"),
            "&lt;a href=&quot;x&quot;&gt;M\u{fc}ller &amp; S\u{f6}hne&#39;s&lt;/a&gt;\n"
        );
    }
}
