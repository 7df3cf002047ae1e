//! Enums stored and sent as lowercase words: one macro so the database text, the JSON and the CLI spell every value the same way.

/// Generates `as_str`, `Display` and `FromStr` for enums stored and sent as lowercase words,
/// so the database text, the JSON and the CLI spell every value the same way.
macro_rules! word_enum {
    ($name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($word => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} `{other}` (expected one of: {})",
                        stringify!($name).to_lowercase(),
                        [$($word),+].join(", ")
                    )),
                }
            }
        }
    };
}
