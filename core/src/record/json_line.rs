//! JSON syntax for the record's line, without going through serde. Serializing is most of what
//! the emitter spends per event, and serde_json escapes every key name and every string one byte
//! at a time; here key names are literals and strings are checked eight bytes at a time, so an
//! ordinary string is copied in one piece.
//!
//! The output is byte for byte what `serde_json::to_string(&record)` writes: the walk over the
//! fields (module `walk`) is generated from the same declaration as the serde derives, and the
//! tests compare the two on every fixture, every real-event corpus file and random records.

/// An object being written: remembers whether a comma is due before the next member.
pub(crate) struct JsonObject<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> JsonObject<'a> {
    pub(crate) fn open(out: &'a mut String) -> Self {
        out.push('{');
        Self { out, empty: true }
    }

    /// Starts a member whose name is a schema literal (plain ASCII, nothing to escape) and
    /// returns the output for its value.
    pub(crate) fn key(&mut self, name: &str) -> &mut String {
        self.separate();
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
        self.out
    }

    /// Starts a member whose name comes from the event (a label key, say).
    pub(crate) fn escaped_key(&mut self, name: &str) -> &mut String {
        self.separate();
        write_string(self.out, name);
        self.out.push(':');
        self.out
    }

    fn separate(&mut self) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
    }

    pub(crate) fn close(self) {
        self.out.push('}');
    }
}

/// Appends `text` as a JSON string with serde_json's escapes: `\"`, `\\`, `\b \t \n \f \r`, and
/// `\u00XX` for the other control characters; everything else, non-ASCII included, verbatim.
pub fn write_string(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let bytes = text.as_bytes();
    // Start of the part of `text` not yet written.
    let mut pending = 0;
    let mut at = 0;
    while at < bytes.len() {
        let escapes = escape_mask(word_at(bytes, at));
        if escapes == 0 {
            at += 8;
            continue;
        }
        // The lowest flagged byte is exact (see `escape_mask`), and padding is never flagged.
        let index = at + (escapes.trailing_zeros() / 8) as usize;
        // Only ASCII bytes are escaped, so `pending..index` and `index + 1..` are char boundaries.
        out.push_str(&text[pending..index]);
        push_escape(out, bytes[index]);
        at = index + 1;
        pending = at;
    }
    out.push_str(&text[pending..]);
    out.push('"');
}

/// The eight bytes of `bytes` from `at`, little-endian; past the end, padded with a byte that
/// needs no escape. (The tail is read without a copy through memory: a short store followed by a
/// wide load stalls, and every string has a tail.)
fn word_at(bytes: &[u8], at: usize) -> u64 {
    const PADDING: u64 = u64::from_ne_bytes([b'a'; 8]);
    let read = |word: &[u8]| u64::from_le_bytes(word.try_into().expect("eight bytes"));
    if let Some(word) = bytes.get(at..at + 8) {
        return read(word);
    }
    let rest = &bytes[at..];
    if bytes.len() >= 8 {
        // The last eight bytes, shifted so that `at` comes first, the top padded.
        let seen = 8 - rest.len();
        (read(&bytes[bytes.len() - 8..]) >> (8 * seen)) | (PADDING << (8 * rest.len()))
    } else {
        rest.iter()
            .rev()
            .fold(PADDING, |word, byte| (word << 8) | u64::from(*byte))
    }
}

/// Flags (with its high bit) each byte of the little-endian `word` that is a control character,
/// `"` or `\`: the classic "has a zero byte" / "has a byte less than n" bit tricks. A borrow can
/// also flag a clean byte, but only above a flagged one, so the lowest flag is always exact.
fn escape_mask(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH_BITS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGH_BITS;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH_BITS;
    below_space
        | zero_bytes(word ^ (ONES * u64::from(b'"')))
        | zero_bytes(word ^ (ONES * u64::from(b'\\')))
}

fn push_escape(out: &mut String, byte: u8) {
    let short = match byte {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        0x08 => "\\b",
        b'\t' => "\\t",
        b'\n' => "\\n",
        0x0C => "\\f",
        b'\r' => "\\r",
        _ => {
            const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(HEX_DIGITS[usize::from(byte & 0xF)]));
            return;
        }
    };
    out.push_str(short);
}

/// Bytes `text` takes inside a JSON string as [`write_string`] writes it (quotes excluded).
pub fn escaped_len(text: &str) -> usize {
    text.chars().map(escaped_char_len).sum()
}

/// Cuts `text` at a char boundary so its escaped form takes at most `max` bytes.
pub fn cut_escaped(text: &mut String, max: usize) {
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        used += escaped_char_len(c);
        if used > max {
            break;
        }
        end = at + c.len_utf8();
    }
    text.truncate(end);
}

/// Bytes one char takes once escaped, by the same rule as [`push_escape`].
fn escaped_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn serde_string(text: &str) -> String {
        serde_json::to_string(text).expect("a string serializes")
    }

    fn ours(text: &str) -> String {
        let mut out = String::new();
        write_string(&mut out, text);
        out
    }

    #[test]
    fn every_single_byte_and_char_escapes_like_serde_json() {
        for code in (0u32..0x800).chain([0xFFFD, 0x1F600]) {
            let c = char::from_u32(code).expect("a scalar value");
            for text in [
                c.to_string(),
                format!("abcdefgh{c}ijklmnop"),
                format!("{c}1234567"),
            ] {
                assert_eq!(ours(&text), serde_string(&text), "U+{code:04X}");
                assert_eq!(escaped_len(&text), ours(&text).len() - 2, "U+{code:04X}");
            }
        }
    }

    #[test]
    fn escapes_at_every_offset_of_every_length() {
        for length in 1..=25 {
            for at in 0..length {
                for escape in ["\"", "\n", "\u{1}"] {
                    let mut text = "x".repeat(length);
                    text.replace_range(at..=at, escape);
                    assert_eq!(
                        ours(&text),
                        serde_string(&text),
                        "{escape:?} at {at} of {length}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_lowest_flag_is_exact_for_every_byte_pair_in_every_position() {
        let needs = |byte: u8| byte < 0x20 || byte == b'"' || byte == b'\\';
        for first in 0..=255u8 {
            for second in [b'a', b'"', 0x00, 0x1f, 0x20, 0xff, 0x80] {
                for position in 0..7 {
                    let mut word = [b'a'; 8];
                    word[position] = first;
                    word[position + 1] = second;
                    let expected = word.iter().position(|b| needs(*b));
                    let mask = escape_mask(u64::from_le_bytes(word));
                    let lowest = (mask != 0).then(|| (mask.trailing_zeros() / 8) as usize);
                    assert_eq!(lowest, expected, "{first:#04x},{second:#04x} at {position}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(text in any::<String>()) {
            prop_assert_eq!(ours(&text), serde_string(&text));
            prop_assert_eq!(escaped_len(&text), ours(&text).len() - 2, "escaped_len agrees");
        }

        #[test]
        fn ascii_with_escapes_escapes_like_serde_json(text in "[a-z\"\\\\\\x00-\\x1f\\x7f é]{0,64}") {
            prop_assert_eq!(ours(&text), serde_string(&text));
        }
    }
}
