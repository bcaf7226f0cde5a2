//! How a queued letter is kept. Its wire message (the bytes every attempt sends) is
//! compressed with LZ4 against a dictionary shared by every letter of the same incident and
//! template: the message of the first such letter, stored once, sealed, in `outbox_dict`.
//! Letters to 100,000 people differ in a few names and lines, so each one keeps only what is
//! its own (a few hundred bytes instead of about 6 KB), and decompressing gives back the
//! same bytes exactly. The rendered text and HTML parts are not kept beside the message:
//! everything that reads a stored letter uses the message.
//!
//! The record, before sealing: `0x03`; the letter's queued state in the clear (the
//! recipient's length as 4 bytes little-endian, the recipient, and the time it was queued as
//! 8 bytes of seconds and 4 of nanoseconds since 1970, little-endian); then compressed
//! together: the length of the letter's other fields as 4 bytes (little-endian), those fields
//! as JSON, `1` and the message (or `0` when the letter has none). The fields of 100,000
//! letters differ as little as their messages, so they are compressed too, against the same
//! dictionary: the first letter's uncompressed record.
//!
//! A letter has no record in `outbox_state` until its state first changes: its state until
//! then is "queued when it was built", read from the head of the record without decompressing
//! the rest (see `outbox.rs`). Writing that state beside every letter was a fifth of the work
//! of queuing 100,000. This is the one letter format: a record of any other is refused with a
//! message naming its format byte.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Store, StoreError};
use crate::notify::Notification;

/// The queued state, then fields and message compressed together: the first byte of every
/// letter record.
pub(super) const FORMAT: u8 = 3;

/// The refusal of a record whose first byte is not [`FORMAT`].
fn unknown_format(plain: &[u8]) -> StoreError {
    match plain.first() {
        Some(&found) => StoreError::LetterFormat { found },
        None => StoreError::corrupt("notification"),
    }
}

/// Dictionaries read so far, by tally key (incident and template); they never change.
#[derive(Default)]
pub(super) struct Dictionaries(Mutex<HashMap<Vec<u8>, Arc<Vec<u8>>>>);

impl Dictionaries {
    fn get(&self, key: &[u8]) -> Option<Arc<Vec<u8>>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    pub(super) fn remember(&self, key: Vec<u8>, dict: Arc<Vec<u8>>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, dict);
    }

    /// Drops the dictionaries of a purged incident.
    pub(super) fn forget_incident(&self, id: crate::domain::IncidentId) {
        let prefix = id.number().to_be_bytes();
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|key, _| !key.starts_with(&prefix));
    }
}

/// A letter's record before compression: the length of its fields, the fields as JSON,
/// then whether it has a message and the message.
fn plain_record(n: &Notification) -> Result<Vec<u8>, StoreError> {
    // Everything but the message and the parts, copied field by field: cloning the letter
    // and then dropping its message copied every message once more for nothing.
    let fields = Notification {
        id: n.id.clone(),
        target: n.target.clone(),
        to: n.to.clone(),
        to_name: n.to_name.clone(),
        letter: crate::notify::Letter {
            subject: n.letter.subject.clone(),
            text: String::new(),
            html: String::new(),
            marks: n.letter.marks.clone(),
            language: n.letter.language.clone(),
        },
        message_id: n.message_id.clone(),
        queued_at: n.queued_at,
        queued_by: n.queued_by.clone(),
        message: None,
    };
    let json = super::codec::encode(&fields)?;
    let len =
        u32::try_from(json.len()).map_err(|_| StoreError::Encode("letter too large".into()))?;
    let message = n.message.as_deref().unwrap_or_default();
    let mut out = Vec::with_capacity(5 + json.len() + message.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&json);
    out.push(u8::from(n.message.is_some()));
    out.extend_from_slice(message.as_bytes());
    Ok(out)
}

/// The dictionary the letters of one incident and template are compressed against, made
/// from the first of them.
pub(super) fn dictionary(first: &Notification) -> Result<Vec<u8>, StoreError> {
    plain_record(first)
}

/// A letter as packed for sealing, against `dict`.
pub(super) fn pack(n: &Notification, dict: &[u8]) -> Result<Vec<u8>, StoreError> {
    let plain = plain_record(n)?;
    let recipient = n.target.recipient.as_bytes();
    let len = u32::try_from(recipient.len())
        .map_err(|_| StoreError::Encode("recipient too long".into()))?;
    let mut out = Vec::with_capacity(1 + 4 + recipient.len() + 12 + plain.len() / 4);
    out.push(FORMAT);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(recipient);
    out.extend_from_slice(&n.queued_at.timestamp().to_le_bytes());
    out.extend_from_slice(&n.queued_at.timestamp_subsec_nanos().to_le_bytes());
    out.extend_from_slice(&lz4_flex::block::compress_prepend_size_with_dict(
        &plain, dict,
    ));
    Ok(out)
}

/// The head of a format 3 record: the recipient, when the letter was queued, and where
/// the compressed part starts.
fn head(plain: &[u8]) -> Option<(&str, chrono::DateTime<chrono::Utc>, usize)> {
    let len = u32::from_le_bytes(plain.get(1..5)?.try_into().ok()?) as usize;
    let end = 5usize.checked_add(len)?;
    let recipient = std::str::from_utf8(plain.get(5..end)?).ok()?;
    let secs = i64::from_le_bytes(plain.get(end..end + 8)?.try_into().ok()?);
    let nanos = u32::from_le_bytes(plain.get(end + 8..end + 12)?.try_into().ok()?);
    let at = chrono::DateTime::from_timestamp(secs, nanos)?;
    Some((recipient, at, end + 12))
}

/// The recipient and queued time a letter's record carries in the clear.
pub(super) fn queued_state(
    plain: &[u8],
) -> Result<(String, chrono::DateTime<chrono::Utc>), StoreError> {
    if plain.first() != Some(&FORMAT) {
        return Err(unknown_format(plain));
    }
    let (recipient, at, _) = head(plain).ok_or(StoreError::corrupt("notification"))?;
    Ok((recipient.to_owned(), at))
}

/// The letter in a record's compressed part.
fn unpack_compressed(packed: &[u8], dict: &[u8]) -> Result<Notification, StoreError> {
    let corrupt = || StoreError::corrupt("notification");
    let record = lz4_flex::block::decompress_size_prepended_with_dict(packed, dict)
        .map_err(|_| corrupt())?;
    let len = record.get(..4).ok_or_else(corrupt)?;
    let len = u32::from_le_bytes(len.try_into().map_err(|_| corrupt())?) as usize;
    let json = record.get(4..4 + len).ok_or_else(corrupt)?;
    let mut n: Notification = super::codec::decode(json, "notification")?;
    n.message = match record.get(4 + len..).ok_or_else(corrupt)? {
        [0] => None,
        [1, message @ ..] => Some(String::from_utf8(message.to_vec()).map_err(|_| corrupt())?),
        _ => return Err(corrupt()),
    };
    Ok(n)
}

/// A letter unpacked from its record; `dict` gives the dictionary when the record needs it.
pub(super) fn unpack(
    plain: &[u8],
    dict: impl FnOnce() -> Result<Arc<Vec<u8>>, StoreError>,
) -> Result<Notification, StoreError> {
    let corrupt = || StoreError::corrupt("notification");
    if plain.first() != Some(&FORMAT) {
        return Err(unknown_format(plain));
    }
    let (recipient, at, start) = head(plain).ok_or_else(corrupt)?;
    let n = unpack_compressed(&plain[start..], &dict()?)?;
    // The head is what state readers trust: it must be the letter's own.
    if n.target.recipient != recipient || n.queued_at != at {
        return Err(corrupt());
    }
    Ok(n)
}

/// Stores a new dictionary under tally key `pair` in a transaction; one already there is a
/// bug, since letters are written under the desk's writer lock.
pub(super) fn put_new_dict(
    txn: &mut dyn super::engine::Txn,
    pair: &[u8],
    sealed: &[u8],
) -> Result<(), StoreError> {
    if txn.get(super::Tree::OutboxDict, pair)?.is_some() {
        return Err(StoreError::Encode(
            "two writers made a letter dictionary at once".into(),
        ));
    }
    txn.put(super::Tree::OutboxDict, pair, sealed)
}

/// A sealed letter: its outbox key and the sealed record (which holds its queued state).
pub(super) type SealedLetter = (Vec<u8>, Vec<u8>);

/// A dictionary made by this commit: its tally key, the bytes and their sealed form.
pub(super) type NewDict = (Vec<u8>, Arc<Vec<u8>>, Vec<u8>);

/// A new letter sealed for the outbox by the thread that built it (see
/// [`Store::letter_sealer`]), for [`super::Changes::sealed`].
#[derive(Debug)]
pub struct SealedNew {
    pub(super) incident: crate::domain::IncidentId,
    pub(super) letter: SealedLetter,
}

/// Seals the new letters of one incident and template against their dictionary, on any
/// thread: `notify queue` seals on the threads that build letters, so that the one writing
/// them only writes.
pub struct LetterSealer<'s> {
    store: &'s Store,
    pair: Vec<u8>,
    dict: Arc<Vec<u8>>,
}

impl LetterSealer<'_> {
    /// Seals `n`, a letter of this sealer's incident and template.
    pub fn seal(&self, n: &Notification) -> Result<SealedNew, StoreError> {
        let key = self.store.outbox_key(&n.target);
        if super::tally::tally_key(&key)? != self.pair.as_slice() {
            return Err(StoreError::Encode(
                "a letter of another incident or template was given to this sealer".into(),
            ));
        }
        Ok(SealedNew {
            incident: n.target.incident,
            letter: self.store.seal_letter(key, n, &self.dict)?,
        })
    }
}

impl Store {
    /// A sealer for new letters of `sample`'s incident and template. When they have no
    /// dictionary yet, `sample`'s message becomes it, stored now (a dictionary no letter
    /// uses yet is harmless; queuing again uses it).
    pub fn letter_sealer(&self, sample: &Notification) -> Result<LetterSealer<'_>, StoreError> {
        let key = self.outbox_key(&sample.target);
        let pair = super::tally::tally_key(&key)?.to_vec();
        let incident = sample.target.incident;
        self.ensure_data_keys([incident])?;
        let dict = match self.letter_dict(&pair)? {
            Some(dict) => dict,
            None => {
                let dict = Arc::new(dictionary(sample)?);
                let sealed = self.seal_dict(&pair, &dict)?;
                self.engine.transaction(&mut |txn| {
                    super::data_keys::refuse_purged(txn, incident)?;
                    put_new_dict(txn, &pair, &sealed)
                })?;
                self.dicts.remember(pair.clone(), Arc::clone(&dict));
                dict
            }
        };
        Ok(LetterSealer {
            store: self,
            pair,
            dict,
        })
    }

    /// One letter sealed under outbox key `key`, compressed against `dict`.
    fn seal_letter(
        &self,
        key: Vec<u8>,
        n: &Notification,
        dict: &[u8],
    ) -> Result<SealedLetter, StoreError> {
        let record = self
            .data_cipher(&key)?
            .seal(&super::aad("outbox", &key), &pack(n, dict)?)?;
        Ok((key, record))
    }

    /// Seals new letters for the outbox, each compressed against its incident and
    /// template's dictionary; the first letter of a pair that has none yet becomes it, and
    /// is returned for the commit to store.
    pub(super) fn seal_letters(
        &self,
        letters: &[Notification],
    ) -> Result<(Vec<SealedLetter>, Vec<NewDict>), StoreError> {
        let mut sealed = Vec::with_capacity(letters.len());
        let mut dicts: HashMap<Vec<u8>, Arc<Vec<u8>>> = HashMap::new();
        let mut new_dicts = Vec::new();
        for n in letters {
            let key = self.outbox_key(&n.target);
            let pair = super::tally::tally_key(&key)?;
            let dict = match dicts.get(pair) {
                Some(dict) => Arc::clone(dict),
                None => {
                    let dict = match self.letter_dict(pair)? {
                        Some(dict) => dict,
                        None => {
                            let dict = Arc::new(dictionary(n)?);
                            let sealed_dict = self.seal_dict(pair, &dict)?;
                            new_dicts.push((pair.to_vec(), Arc::clone(&dict), sealed_dict));
                            dict
                        }
                    };
                    dicts.insert(pair.to_vec(), Arc::clone(&dict));
                    dict
                }
            };
            sealed.push(self.seal_letter(key, n, &dict)?);
        }
        Ok((sealed, new_dicts))
    }

    /// The dictionary of the letters under tally key `key`, if one was stored.
    pub(super) fn letter_dict(&self, key: &[u8]) -> Result<Option<Arc<Vec<u8>>>, StoreError> {
        if let Some(dict) = self.dicts.get(key) {
            return Ok(Some(dict));
        }
        let Some(raw) = self.engine.get(super::Tree::OutboxDict, key)? else {
            return Ok(None);
        };
        let plain = self
            .data_cipher(key)?
            .open(&super::aad("outbox_dict", key), &raw)
            .ok_or(StoreError::corrupt("letter dictionary"))?;
        let dict = Arc::new(plain);
        self.dicts.remember(key.to_vec(), Arc::clone(&dict));
        Ok(Some(dict))
    }

    /// Seals a dictionary for `outbox_dict`.
    fn seal_dict(&self, key: &[u8], dict: &[u8]) -> Result<Vec<u8>, StoreError> {
        Ok(self
            .data_cipher(key)?
            .seal(&super::aad("outbox_dict", key), dict)?)
    }
}

/// A letter to `recipient` (at `recipient@corp.example`) at roster position `order`, of
/// incident 1's first notice, with a message long enough to compress well.
#[cfg(test)]
pub(super) fn test_letter(recipient: &str, order: u64) -> Notification {
    use crate::domain::{IncidentId, UserName};
    use crate::notify::{Letter, NotificationRef, TemplateName};
    let mut n = Notification::new(
        NotificationRef {
            incident: IncidentId::new(1),
            template: TemplateName::Initial,
            recipient: recipient.into(),
            order,
        },
        format!("{recipient}@corp.example"),
        recipient.into(),
        Letter {
            subject: "Your data".into(),
            text: "text".into(),
            html: "<p>html</p>".into(),
            marks: Default::default(),
            language: None,
        },
        "corp.example",
        chrono::Utc::now(),
        &UserName::parse("tester").unwrap(),
    );
    n.message = Some(format!(
        "To: {recipient} <{recipient}@corp.example>\r\nSubject: Your data\r\n\r\nDear {recipient},\r\n{}",
        "the same long paragraph for everyone. ".repeat(40)
    ));
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(name: &str) -> Notification {
        test_letter(name, 0)
    }

    #[test]
    fn a_packed_letter_gives_back_the_same_letter_and_is_small() {
        let dict = dictionary(&letter("ana")).unwrap();
        let second = letter("bob");
        let packed = pack(&second, &dict).unwrap();
        let back = unpack(&packed, || Ok(Arc::new(dict.clone()))).unwrap();
        let mut expected = second.clone();
        expected.letter.text = String::new();
        expected.letter.html = String::new();
        assert_eq!(back, expected);
        let message_len = second.message.as_ref().unwrap().len();
        assert!(
            packed.len() * 8 < message_len,
            "{} of {message_len}",
            packed.len()
        );
        // A letter without a message, and a dictionary from before this format (the
        // first message alone).
        let mut bare = letter("cy");
        bare.message = None;
        let back = unpack(&pack(&bare, &dict).unwrap(), || Ok(Arc::new(dict.clone()))).unwrap();
        assert_eq!(back.message, None);
        let old_dict = letter("ana").message.unwrap().into_bytes();
        let packed = pack(&second, &old_dict).unwrap();
        let back = unpack(&packed, || Ok(Arc::new(old_dict.clone()))).unwrap();
        assert_eq!(back.message, second.message);
    }

    #[test]
    fn the_head_gives_the_queued_state_and_must_match_the_letter() {
        let dict = dictionary(&letter("ana")).unwrap();
        let n = letter("bob");
        let packed = pack(&n, &dict).unwrap();
        assert_eq!(
            queued_state(&packed).unwrap(),
            ("bob".to_owned(), n.queued_at)
        );
        // A head naming someone else than the letter inside is damage, not a letter.
        let mut other = pack(&letter("eve"), &dict).unwrap();
        let (_, _, start) = head(&other).unwrap();
        other.truncate(start);
        let (_, _, body) = head(&packed).unwrap();
        other.extend_from_slice(&packed[body..]);
        assert!(unpack(&other, || Ok(Arc::new(dict.clone()))).is_err());
    }

    #[test]
    fn a_record_of_another_format_is_refused_by_name_and_damaged_ones_are_errors() {
        let n = letter("ana");
        let json = super::super::codec::encode(&n).unwrap();
        for other in [
            &json[..],
            &[1, 200, 0, 0, 0][..],
            &[2, 9, 0, 0, 0, 1, 2][..],
        ] {
            let err = unpack(other, || Ok(Arc::new(Vec::new()))).unwrap_err();
            assert!(
                err.to_string().contains(&format!("format {}", other[0])),
                "{err}"
            );
            assert!(queued_state(other).is_err());
        }
        for bad in [
            &[][..],
            &[3, 200, 0, 0, 0][..],
            &[3, 1, 0, 0, 0, b'x', 1, 2][..],
        ] {
            assert!(unpack(bad, || Ok(Arc::new(Vec::new()))).is_err());
        }
        assert!(queued_state(&[3, 1, 0, 0, 0, b'x', 1, 2]).is_err());
    }
}
