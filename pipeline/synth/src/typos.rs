//! The one-edit typo that error injection applies to names.

use super::rng::Rng;

/// Applies one random edit (substitution, deletion, insertion or adjacent transposition) to the
/// letters of `name`, keeping the first letter. Returns `None` when no edit changes the name.
pub(crate) fn typo(name: &str, rng: &mut Rng) -> Option<String> {
    const LETTERS: &[u8] = b"abcdefghijklmnoprstuvwy";
    let chars: Vec<char> = name.chars().collect();
    // Positions of letters after the first character: editing those keeps the name recognisable.
    let letters: Vec<usize> = (1..chars.len()).filter(|&i| chars[i].is_alphabetic()).collect();
    if letters.len() < 2 {
        return None;
    }
    for _ in 0..8 {
        let mut out = chars.clone();
        let at = *rng.pick(&letters);
        let upper = chars[at].is_uppercase();
        let mut letter = char::from(*rng.pick(LETTERS));
        if upper {
            letter = letter.to_ascii_uppercase();
        }
        match rng.below(4) {
            0 => out[at] = letter,
            1 => {
                out.remove(at);
            }
            2 => out.insert(at, letter),
            _ => {
                if at + 1 < out.len() && out[at + 1].is_alphabetic() {
                    out.swap(at, at + 1);
                } else {
                    out[at] = letter;
                }
            }
        }
        let edited: String = out.into_iter().collect();
        let folded = tellonce_schemas::identifiers::names::fold(&edited);
        if !folded.is_empty() && folded != tellonce_schemas::identifiers::names::fold(name) {
            return Some(edited);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_changes_the_folded_name_by_one_edit() {
        let mut rng = Rng::new(3);
        for name in ["Smith", "O'Brien", "Zoë", "Wójcik", "Jean-Baptiste"] {
            let t = typo(name, &mut rng).expect("editable");
            assert_ne!(
                tellonce_schemas::identifiers::names::fold(&t),
                tellonce_schemas::identifiers::names::fold(name)
            );
            assert!(t.chars().count().abs_diff(name.chars().count()) <= 1);
        }
        assert!(typo("Li", &mut rng).is_none());
    }
}
