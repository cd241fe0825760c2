//! Doubles formatted the way Redis 7.0 prints them (`%.17g` from C's printf),
//! so that replies carrying scores or floats are byte-identical to Redis.

/// Appends `d` formatted like C's `printf("%.{precision}g", d)`.
pub fn push_g(out: &mut Vec<u8>, d: f64, precision: usize) {
    if d.is_nan() {
        out.extend_from_slice(if d.is_sign_negative() { b"-nan" } else { b"nan" });
        return;
    }
    if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    let p = precision.max(1);
    // Rust's `{:e}` is correctly rounded, as glibc's printf is, so the digits
    // agree with C; only the layout differs.
    let sci = format!("{:.*e}", p - 1, d);
    let (mant, exp) = sci.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent digits");
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    if neg {
        out.push(b'-');
    }
    if exp < -4 || exp >= p as i32 {
        out.push(digits[0]);
        let frac = trim_zeros(&digits[1..]);
        if !frac.is_empty() {
            out.push(b'.');
            out.extend_from_slice(frac);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        crate::num::push_u64(out, e as u64);
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        out.extend_from_slice(&digits[..int_len]);
        let frac = trim_zeros(&digits[int_len..]);
        if !frac.is_empty() {
            out.push(b'.');
            out.extend_from_slice(frac);
        }
    } else {
        let frac = trim_zeros(&digits);
        out.push(b'0');
        if !frac.is_empty() {
            out.push(b'.');
            out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
            out.extend_from_slice(frac);
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let end = d.iter().rposition(|&c| c != b'0').map_or(0, |i| i + 1);
    &d[..end]
}

/// `%.17g` as a string: what Redis 7.0 sends for a double in RESP2.
pub fn fmt_g17(d: f64) -> String {
    let mut v = Vec::with_capacity(24);
    push_g(&mut v, d, 17);
    String::from_utf8(v).expect("ascii")
}

/// The body of a RESP3 double as Redis 7.0 writes it (`inf`, `-inf`, or
/// `%.17g`).
pub fn push_resp3_double(out: &mut Vec<u8>, d: f64) {
    push_g(out, d, 17);
}

/// Parses the body of a RESP3 double.
pub fn parse_resp3_double(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(d: f64) -> String {
        fmt_g17(d)
    }

    #[test]
    fn matches_c_printf() {
        // Expected values are glibc's printf("%.17g") output.
        assert_eq!(g(0.0), "0");
        assert_eq!(g(-0.0), "-0");
        assert_eq!(g(1.0), "1");
        assert_eq!(g(0.1), "0.10000000000000001");
        assert_eq!(g(1.5), "1.5");
        assert_eq!(g(100.0), "100");
        assert_eq!(g(1e16), "10000000000000000");
        assert_eq!(g(1e17), "1e+17");
        assert_eq!(g(1.2345e20), "1.2345e+20");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1.0000000000000001e-05");
        assert_eq!(g(123456789.125), "123456789.125");
        assert_eq!(g(f64::INFINITY), "inf");
        assert_eq!(g(f64::NEG_INFINITY), "-inf");
        assert_eq!(g(1e300), "1.0000000000000001e+300");
        assert_eq!(g(-2.5e-7), "-2.4999999999999999e-07");
        assert_eq!(g(3.0e-5), "3.0000000000000001e-05");
    }

    #[test]
    fn other_precisions() {
        let mut v = Vec::new();
        push_g(&mut v, 1234.5678, 6);
        assert_eq!(v, b"1234.57");
        v.clear();
        push_g(&mut v, 0.5, 1);
        assert_eq!(v, b"0.5");
    }
}
