//! Wire builders and the mexc.md §9 test vector, shared by the decoder's unit tests.

/// Appends a varint.
pub(crate) fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a tag.
pub(crate) fn tag(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire));
}

/// Appends a length-delimited payload (length + bytes).
pub(crate) fn len(out: &mut Vec<u8>, b: &[u8]) {
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// The 273-byte aggregated-depth frame of mexc.md §9 example 5.
pub(crate) fn vector_273() -> Vec<u8> {
    const HEX: &str = "\
0a2e73706f74407075626c69632e61676772652e64657074682e76332e6170692e70624031306d734042544355534454\
1a0742544355534454\
30a8e3eef58833\
ca13cd01\
0a0e0a093131373134352e343912013\
00a170a093131373134352e3530120a302e3031323334353030\
0a170a093131373134362e3032120a312e3230303030303030\
12170a093131373134352e3438120a302e3531323030303030\
120e0a093131373134342e3930120130\
12170a093131373134332e3131120a322e3030313030303030\
1a2673706f74407075626c69632e61676772652e64657074682e76332e6170692e70624031306d73\
220b3433323936333633323336\
2a0b3433323936333633323535\
30a5e3eef58833";
    let clean: Vec<u8> = HEX.bytes().filter(u8::is_ascii_hexdigit).collect();
    clean
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

/// An aggregated-depth frame; with `ids_first` the versions precede the levels, reversed
/// (toVersion, then fromVersion) to exercise out-of-order decoding.
pub(crate) fn aggre_depth(
    asks: &[(&str, &str)],
    bids: &[(&str, &str)],
    from: &str,
    to: &str,
    ids_first: bool,
) -> Vec<u8> {
    let mut body = Vec::new();
    let ids = |body: &mut Vec<u8>| {
        tag(body, 5, 2);
        len(body, to.as_bytes());
        tag(body, 4, 2);
        len(body, from.as_bytes());
    };
    if ids_first {
        ids(&mut body);
    }
    for (field, levels) in [(1, asks), (2, bids)] {
        for (p, q) in levels {
            let mut item = Vec::new();
            tag(&mut item, 2, 2);
            len(&mut item, q.as_bytes());
            tag(&mut item, 1, 2);
            len(&mut item, p.as_bytes());
            tag(&mut body, field, 2);
            len(&mut body, &item);
        }
    }
    if !ids_first {
        ids(&mut body);
    }
    let mut frame = Vec::new();
    tag(&mut frame, 313, 2);
    len(&mut frame, &body);
    tag(&mut frame, 1, 2);
    len(
        &mut frame,
        b"spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT",
    );
    frame
}
