//! Query latency on the demo estate and on synthetic estates of growing size.
//! Run: `cargo bench --bench query`. Figures go in the issue notes.

use bucketlog::load::{snapshot, FileSet};
use bucketlog::model::Estate;
use bucketlog::query::{self, Options};
use bucketlog::synth::{self, Size};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn estate(files: &FileSet) -> Estate {
    let mut e = Estate::default();
    snapshot::load(files, &mut e);
    e
}

fn demo(c: &mut Criterion) {
    let e = estate(&FileSet::demo());
    c.bench_function("demo/load", |b| b.iter(|| estate(&FileSet::demo())));
    for q in [
        "who can write example-upload-bucket/incoming/*",
        "can role/partner-uploader read example-upload-bucket/incoming/report.csv",
        "who can any share-bucket/*",
    ] {
        c.bench_function(&format!("demo/{q}"), |b| {
            b.iter(|| query::answer(&e, q, Options::default()).expect("answers"))
        });
    }
}

/// Proofs on the demo estate; prints how many formulas reached Z3 for one
/// cold run of each (the cache answers the rest).
fn proofs(c: &mut Criterion) {
    let e = estate(&FileSet::demo());
    for q in [
        "prove write-only role/partner-uploader on example-upload-bucket/incoming/*",
        "prove no-public-access example-upload-bucket",
        "prove role/partner-uploader write example-upload-bucket/incoming/* requires aws:SecureTransport = true",
    ] {
        let before = bucketlog::smt::formulas_solved();
        query::answer(&e, q, Options::default()).expect("answers");
        eprintln!(
            "{q}: {} formula(s) reached Z3",
            bucketlog::smt::formulas_solved() - before
        );
        c.bench_function(&format!("demo/{q}"), |b| {
            b.iter(|| query::answer(&e, q, Options::default()).expect("answers"))
        });
    }
}

fn synthetic(c: &mut Criterion) {
    let mut group = c.benchmark_group("synth");
    group.sample_size(10);
    for users in [10, 40, 160] {
        let size = Size {
            users,
            roles: users / 2,
            ..Size::default()
        };
        let e = estate(&synth::generate(&size));
        let principals = e.principals.len();
        group.bench_with_input(BenchmarkId::new("who-can-read", principals), &e, |b, e| {
            b.iter(|| {
                query::answer(e, "who can read bucket-0-0/prefix-1/*", Options::default())
                    .expect("answers")
            })
        });
        // An ObjectWriter bucket: the answer quantifies over possible uploaders.
        group.bench_with_input(
            BenchmarkId::new("who-can-read-acl-bucket", principals),
            &e,
            |b, e| {
                b.iter(|| {
                    query::answer(e, "who can read bucket-0-1/prefix-1/*", Options::default())
                        .expect("answers")
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("can-read", principals), &e, |b, e| {
            b.iter(|| {
                query::answer(
                    e,
                    "can arn:aws:iam::100000000000:user/user-0 read bucket-0-0/prefix-1/*",
                    Options::default(),
                )
                .expect("answers")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, demo, proofs, synthetic);
criterion_main!(benches);
