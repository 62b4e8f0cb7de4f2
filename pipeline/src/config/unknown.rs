//! Unknown keys, found by serde as it reads the configuration (with `serde_ignored`, as Cargo
//! finds unused manifest keys) rather than from a list kept by hand: each key no section
//! declares is reported with the keys its section does take, all of them at once.

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

/// Reads `text` as `T`, collecting the place (`sources[0].what`) of every key `T` does not
/// declare, in key order. Err: the text is not TOML (`Syntax`) or a declared key's value does
/// not fit its type (`Value`), with the unknown keys found before reading stopped there (a value
/// out of range is the sections' to report, with every unknown key).
pub(super) fn read<T: DeserializeOwned>(text: &str) -> Result<(T, Vec<String>), ReadError> {
    let de = toml::Deserializer::parse(text).map_err(|e| ReadError::Syntax(e.to_string()))?;
    let mut unknown = Vec::new();
    match serde_ignored::deserialize(de, |path| unknown.push(place(&path))) {
        Ok(value) => Ok((value, unknown)),
        Err(e) => Err(ReadError::Value { message: e.to_string().trim().to_owned(), unknown }),
    }
}

/// Why [`read`] failed.
pub(super) enum ReadError {
    /// Not TOML; the message names line and column.
    Syntax(String),
    /// A declared key's value does not fit; the unknown keys found before it.
    Value { message: String, unknown: Vec<String> },
}

/// A key's place as the configuration reference writes it: `limits.workers`, `sources[0].what`.
fn place(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", place(parent)),
        Path::Map { parent, key } => match place(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => place(parent),
    }
}

/// The section a key's place is in: `sources[0].what` is in `sources`, `limits.x` in `limits`,
/// `extra` in the top level (`""`).
pub(super) fn section_of(place: &str) -> String {
    let parent = place.rsplit_once('.').map_or("", |(p, _)| p);
    parent.split('.').map(|part| part.split_once('[').map_or(part, |(name, _)| name)).collect::<Vec<_>>().join(".")
}

/// The field names of struct `T`, as its `Deserialize` declares them (none for a type that is
/// not a struct).
pub(super) fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The probe answers every request with an error; only a struct's request names its fields.
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields
}

/// A deserializer that records the fields a struct asks for and fails.
struct FieldProbe<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("a probe for field names"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("a probe for field names"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        a: u32,
        b: Option<String>,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
        #[serde(default)]
        list: Vec<Inner>,
    }

    #[test]
    fn every_unknown_key_is_found_with_its_place() {
        let text = "x = 1\n[inner]\na = 1\nc = 2\n[[list]]\na = 2\nd = 3\n";
        let Ok((_, unknown)) = read::<Outer>(text) else { panic!("should read") };
        // TOML tables come in key order.
        assert_eq!(unknown, ["inner.c", "list[0].d", "x"]);
        assert_eq!(unknown.iter().map(|p| section_of(p)).collect::<Vec<_>>(), ["inner", "list", ""]);
    }

    #[test]
    fn field_names_come_from_serde() {
        assert_eq!(fields_of::<Inner>(), ["a", "b"]);
        assert_eq!(fields_of::<Outer>(), ["inner", "list"]);
        assert!(fields_of::<u32>().is_empty());
    }

    #[test]
    fn a_bad_value_keeps_the_unknown_keys_found_before_it() {
        match read::<Outer>("[inner]\na = \"no\"\nb = \"ok\"\n[[list]]\na = 1\nz = 0\n") {
            Err(ReadError::Value { message, unknown }) => {
                // Reading stops at the bad value: keys after it are not reached.
                assert!(unknown.is_empty(), "{unknown:?}");
                assert!(message.contains("inner.a") || message.contains("invalid type"), "{message}");
            }
            _ => panic!("should fail on inner.a"),
        }
        assert!(matches!(read::<Outer>("[inner"), Err(ReadError::Syntax(_))));
    }
}
