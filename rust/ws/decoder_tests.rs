//! Behaviour tests of `Decoder` (RFC 6455 §5, RFC 7692 §6), kept apart from the decoder.

use super::*;
use crate::ws::deflate::Deflater;

/// An unmasked server frame.
fn frame(fin: bool, rsv1: bool, op: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | op];
    match payload.len() {
        n if n < 126 => f.push(n as u8),
        n if n <= 0xFFFF => {
            f.push(126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload);
    f
}

fn decode_all(dec: &mut Decoder, data: &[u8]) -> Result<Vec<(Opcode, Vec<u8>)>, WsError> {
    dec.feed_owned(data)
}

fn err(data: &[u8]) -> WsError {
    Decoder::default().feed_owned(data).unwrap_err()
}

/// A stream mixing every length class, fragmentation with interleaved control frames.
fn sample_stream() -> (Vec<u8>, Vec<(Opcode, Vec<u8>)>) {
    let mut s = Vec::new();
    let mut want = Vec::new();
    for (i, len) in [0usize, 1, 125, 126, 127, 65535, 65536, 70_000]
        .iter()
        .enumerate()
    {
        let p: Vec<u8> = (0..*len).map(|j| ((i + j) % 256) as u8).collect();
        s.extend(frame(true, false, 2, &p));
        want.push((Opcode::Binary, p));
    }
    s.extend(frame(false, false, 1, "héllo ".as_bytes()));
    s.extend(frame(true, false, 9, b"ping!"));
    s.extend(frame(false, false, 0, &[0xE2, 0x82]));
    s.extend(frame(true, false, 10, b""));
    s.extend(frame(true, false, 0, &[0xAC, b'!']));
    want.push((Opcode::Ping, b"ping!".to_vec()));
    want.push((Opcode::Pong, Vec::new()));
    want.push((Opcode::Text, "héllo €!".as_bytes().to_vec()));
    s.extend(frame(true, false, 8, b"\x03\xe8done"));
    want.push((Opcode::Close, b"\x03\xe8done".to_vec()));
    (s, want)
}

#[test]
fn decodes_every_length_class_and_fragmented_text_in_one_chunk() {
    let (s, want) = sample_stream();
    let mut dec = Decoder::default();
    assert_eq!(decode_all(&mut dec, &s).unwrap(), want);
    assert_eq!(dec.close(), Some((Some(1000), "done")));
}

#[test]
fn any_split_of_the_stream_gives_identical_output() {
    let (s, want) = sample_stream();
    // Deterministic pseudo-random chunk sizes from tiny to larger than a frame.
    let mut seed = 0x9E37_79B9u32;
    for round in 0..200 {
        let mut dec = Decoder::default();
        let mut got = Vec::new();
        let mut rest = &s[..];
        while !rest.is_empty() {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let cap = [1usize, 3, 17, 200, 5000, 80_000][round % 6];
            let n = (seed as usize % cap + 1).min(rest.len());
            got.extend(decode_all(&mut dec, &rest[..n]).unwrap());
            rest = &rest[n..];
        }
        assert_eq!(got, want, "round {round}");
        assert_eq!(dec.buffered(), 0);
    }
    // Every single split point, two chunks.
    for cut in 0..=s.len().min(300) {
        let mut dec = Decoder::default();
        let mut got = decode_all(&mut dec, &s[..cut]).unwrap();
        got.extend(decode_all(&mut dec, &s[cut..]).unwrap());
        assert_eq!(got, want, "cut {cut}");
    }
}

#[test]
fn borrows_unfragmented_payloads_from_the_input() {
    let data = frame(true, false, 2, b"zero-copy");
    let mut dec = Decoder::default();
    let range = data.as_ptr_range();
    dec.feed_with(&data, |m: Message<'_>| -> Result<(), WsError> {
        assert!(range.contains(&m.payload.as_ptr()));
        Ok(())
    })
    .unwrap();
}

#[test]
fn rejects_masked_server_frame() {
    let e = err(&[0x82, 0x81, 1, 2, 3, 4, 5]);
    assert_eq!((e.kind, e.close_code), (WsErrorKind::MaskedFrame, 1002));
}

#[test]
fn rejects_rsv1_without_deflate() {
    assert_eq!(
        err(&frame(true, true, 2, b"x")).kind,
        WsErrorKind::ReservedBits
    );
}

#[test]
fn rejects_continuation_without_start_and_data_inside_fragments() {
    assert_eq!(
        err(&frame(true, false, 0, b"x")).kind,
        WsErrorKind::UnexpectedContinuation
    );
    let mut s = frame(false, false, 1, b"a");
    s.extend(frame(true, false, 1, b"b"));
    assert_eq!(err(&s).kind, WsErrorKind::ExpectedContinuation);
}

#[test]
fn rejects_invalid_utf8_with_1007() {
    let e = err(&frame(true, false, 1, &[0xC3, 0x28]));
    assert_eq!((e.kind, e.close_code), (WsErrorKind::InvalidUtf8, 1007));
    // Split inside a code point is fine; an unfinished one at the end is not.
    let mut s = frame(false, false, 1, &[0xC3]);
    s.extend(frame(true, false, 0, &[0xA9]));
    assert_eq!(
        Decoder::default().feed_owned(&s).unwrap(),
        vec![(Opcode::Text, "é".as_bytes().to_vec())]
    );
    let mut s = frame(false, false, 1, b"a");
    s.extend(frame(true, false, 0, &[0xC3]));
    assert_eq!(err(&s).close_code, 1007);
}

#[test]
fn rejects_messages_above_the_limit_with_1009() {
    let cfg = DecoderConfig {
        max_message_size: 100,
        deflate: None,
    };
    let e = Decoder::new(cfg)
        .feed_owned(&frame(true, false, 2, &[0; 101]))
        .unwrap_err();
    assert_eq!((e.kind, e.close_code), (WsErrorKind::MessageTooBig, 1009));
    // Each fragment fits, the sum does not.
    let mut s = frame(false, false, 2, &[0; 60]);
    s.extend(frame(true, false, 0, &[0; 60]));
    let e = Decoder::new(cfg).feed_owned(&s).unwrap_err();
    assert_eq!(e.close_code, 1009);
    // Refused from the header alone: nothing is buffered for the announced payload.
    let mut dec = Decoder::new(cfg);
    assert!(dec
        .feed_owned(&[0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0])
        .is_err());
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn rejects_bad_close_frames() {
    assert_eq!(err(&frame(true, false, 8, b"\x03")).close_code, 1002);
    assert_eq!(
        err(&frame(true, false, 8, b"\x03\xee")).kind,
        WsErrorKind::InvalidCloseCode
    );
    assert_eq!(
        err(&frame(true, false, 8, b"\x03\xe8\xff")).close_code,
        1007
    );
}

#[test]
fn stays_failed_after_an_error() {
    let mut dec = Decoder::default();
    assert!(dec.feed_owned(&[0x83, 0]).is_err());
    let again = dec.feed_owned(&frame(true, false, 2, b"ok")).unwrap_err();
    assert_eq!(again.kind, WsErrorKind::ReservedOpcode);
    assert!(dec.error().is_some());
}

#[test]
fn ignores_bytes_after_close() {
    let mut s = frame(true, false, 8, b"");
    s.extend(frame(true, false, 2, b"late"));
    s.extend([0x83, 0]);
    let mut dec = Decoder::default();
    assert_eq!(
        dec.feed_owned(&s).unwrap(),
        vec![(Opcode::Close, Vec::new())]
    );
    assert_eq!(dec.close(), Some((None, "")));
    assert!(dec.feed_owned(&[0x83, 0]).unwrap().is_empty());
}

#[test]
fn callback_errors_pass_through_and_decoding_resumes() {
    let mut s = frame(true, false, 2, b"a");
    s.extend(frame(true, false, 2, b"b"));
    let mut dec = Decoder::default();
    let r: Result<(), WsError> =
        dec.feed_with(&s, |_| Err(WsError::new(WsErrorKind::InvalidInput, "stop")));
    assert_eq!(r.unwrap_err().kind, WsErrorKind::InvalidInput);
    assert!(dec.error().is_none());
    assert_eq!(
        dec.feed_owned(&frame(true, false, 2, b"c")).unwrap(),
        vec![
            (Opcode::Binary, b"b".to_vec()),
            (Opcode::Binary, b"c".to_vec())
        ]
    );
    // The same from the pending-buffer path: a frame completed by the second chunk.
    let mut dec = Decoder::default();
    dec.feed_owned(&s[..2]).unwrap();
    let r: Result<(), WsError> = dec.feed_with(&s[2..], |_| {
        Err(WsError::new(WsErrorKind::InvalidInput, "stop"))
    });
    assert!(r.is_err());
    assert_eq!(
        dec.feed_owned(&[]).unwrap(),
        vec![(Opcode::Binary, b"b".to_vec())]
    );
}

fn deflate_cfg(server_nct: bool) -> DecoderConfig {
    DecoderConfig {
        max_message_size: 1 << 20,
        deflate: Some(DeflateParams {
            server_no_context_takeover: server_nct,
            ..DeflateParams::default()
        }),
    }
}

#[test]
fn inflates_compressed_messages_with_and_without_context_takeover() {
    for nct in [false, true] {
        let params = DeflateParams {
            client_no_context_takeover: nct,
            ..DeflateParams::default()
        };
        // The server side's compressor is a Deflater with the mirrored setting.
        let mut server = Deflater::new(&params).unwrap();
        let mut dec = Decoder::new(deflate_cfg(nct));
        let msg = br#"{"time":1,"channel":"spot.trades","result":{"price":"1.5"}}"#;
        let mut s = Vec::new();
        for _ in 0..3 {
            let mut z = Vec::new();
            server.message(msg, &mut z).unwrap();
            s.extend(frame(true, true, 1, &z));
        }
        // A fragmented compressed message with a ping in between.
        let mut z = Vec::new();
        server.message(msg, &mut z).unwrap();
        let (a, b) = z.split_at(z.len() / 2);
        s.extend(frame(false, true, 2, a));
        s.extend(frame(true, false, 9, b"p"));
        s.extend(frame(true, false, 0, b));
        s.extend(frame(true, false, 2, b"plain"));
        let got = dec.feed_owned(&s).unwrap();
        let text = (Opcode::Text, msg.to_vec());
        assert_eq!(
            got,
            vec![
                text.clone(),
                text.clone(),
                text,
                (Opcode::Ping, b"p".to_vec()),
                (Opcode::Binary, msg.to_vec()),
                (Opcode::Binary, b"plain".to_vec()),
            ]
        );
    }
}

#[test]
fn rejects_rsv1_on_continuation_and_compressed_bombs() {
    let mut s = frame(false, true, 2, &[0xf2, 0x48]);
    s.extend(frame(true, true, 0, &[0xcd]));
    assert_eq!(
        Decoder::new(deflate_cfg(false))
            .feed_owned(&s)
            .unwrap_err()
            .kind,
        WsErrorKind::ReservedBits
    );
    let mut z = Vec::new();
    Deflater::new(&DeflateParams::default())
        .unwrap()
        .message(&vec![0u8; 4 << 20], &mut z)
        .unwrap();
    let e = Decoder::new(deflate_cfg(false))
        .feed_owned(&frame(true, true, 2, &z))
        .unwrap_err();
    assert_eq!(e.close_code, 1009);
}
