//! Codec micro-benchmarks: request parsing (pipelined SETs, inline), reply
//! encoding in both protocols, and frame decoding.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ferrokv_resp::request::Parsed;
use ferrokv_resp::{decode, Limits, Out, Protocol, RequestParser};

fn pipeline(n: usize) -> Vec<u8> {
    let value = vec![b'x'; 100];
    let mut w = Vec::new();
    for i in 0..n {
        let key = format!("key:{i:012}");
        w.extend(format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$100\r\n", key.len()).bytes());
        w.extend_from_slice(&value);
        w.extend_from_slice(b"\r\n");
    }
    w
}

fn parse_requests(c: &mut Criterion) {
    let wire = pipeline(16);
    let mut g = c.benchmark_group("request");
    g.throughput(Throughput::Elements(16));
    g.bench_function("16 pipelined SETs", |b| {
        let limits = Limits::default();
        b.iter(|| {
            let mut p = RequestParser::new();
            let mut pos = 0;
            let mut args = 0;
            while let Ok(Parsed::Command { consumed }) = p.parse(&wire[pos..], &limits) {
                args += p.args(&wire[pos..]).count();
                pos += consumed;
            }
            args
        })
    });
    let inline = b"SET key:000000000001 hello\r\n".repeat(16);
    g.bench_function("16 inline SETs", |b| {
        let limits = Limits::default();
        b.iter(|| {
            let mut p = RequestParser::new();
            let mut pos = 0;
            while let Ok(Parsed::Command { consumed }) = p.parse(&inline[pos..], &limits) {
                pos += consumed;
            }
            pos
        })
    });
    g.finish();
}

fn encode_replies(c: &mut Criterion) {
    let value = vec![b'x'; 100];
    let mut g = c.benchmark_group("reply");
    g.throughput(Throughput::Elements(16));
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        g.bench_function(format!("16 bulk replies {proto:?}"), |b| {
            b.iter_batched_ref(
                || Out::new(proto),
                |out| {
                    for _ in 0..16 {
                        out.bulk(&value);
                    }
                    out.buf.len()
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function(format!("map of 8 pairs with doubles {proto:?}"), |b| {
            b.iter_batched_ref(
                || Out::new(proto),
                |out| {
                    out.map(8);
                    for i in 0..8 {
                        out.bulk(b"member");
                        out.double(i as f64 + 0.5);
                    }
                    out.buf.len()
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn decode_frames(c: &mut Criterion) {
    let mut wire = b"*16\r\n".to_vec();
    for i in 0..16 {
        wire.extend(format!("$7\r\nvalue{i:02}\r\n").bytes());
    }
    c.bench_function("decode array of 16 bulks", |b| b.iter(|| decode(&wire).map(|(_, n)| n)));
}

criterion_group!(benches, parse_requests, encode_replies, decode_frames);
criterion_main!(benches);
