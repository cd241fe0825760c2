//! The frame decoder on arbitrary bytes: no panic, and whatever it decodes
//! re-encodes to bytes that decode to the same frame.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((frame, used)) = ferrokv_resp::decode(data) {
        assert!(used <= data.len());
        let mut wire = Vec::new();
        frame.write_to(&mut wire);
        let (again, n) = ferrokv_resp::decode(&wire).expect("re-encoded frame decodes");
        assert_eq!(n, wire.len());
        // NaN doubles are not equal to themselves; compare their encoding.
        let mut wire2 = Vec::new();
        again.write_to(&mut wire2);
        assert_eq!(wire, wire2);
    }
});
