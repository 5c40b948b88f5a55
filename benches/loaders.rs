//! Loader throughput: YAML and JSON text into the spanned tree, in MB/s.
//!
//! The input is a generated template of about 5 MB (built here, never committed) shaped
//! like CDK and SAM output: many resources with nested properties, intrinsic functions in
//! both forms, quoted strings, block scalars and lists. Issue 7's targets: >= 70 MB/s for
//! YAML and >= 80 MB/s for JSON on the 2-core benchmark machine.
//!
//! Run with `cargo bench --bench loaders`; divan prints the throughput column (wall
//! time). Before divan runs, the bench also prints MB/s per second of this thread's CPU
//! time (Linux `/proc/thread-self/schedstat`), which stays meaningful when a shared machine
//! runs more jobs than it has cores and wall times stretch with the load average.
//!
//! With `DDB_BENCH_CORPUS=DIR` it also loads every template file under DIR (YAML and JSON
//! apart, each file once per run, as `check` does) and prints the same CPU-time MB/s for
//! our loaders and for the bare parsers: how fast real templates load, which the generated
//! ones only approximate (MB/s depends on the shape: short keys and values cost more per
//! byte than comments or long strings).

use std::fmt::Write;

use ddb_guard::load::{self, Format, Limits};
use divan::counter::BytesCount;
use divan::Bencher;

const TARGET_BYTES: usize = 5 * 1024 * 1024;

fn main() {
    cpu_time_throughput();
    if let Some(dir) = std::env::var_os("DDB_BENCH_CORPUS") {
        corpus_throughput(std::path::Path::new(&dir));
    }
    divan::main();
}

/// Every template file under `dir` (by extension), read into memory, split by format.
fn corpus_texts(dir: &std::path::Path) -> (Vec<String>, Vec<String>) {
    let (mut yaml, mut json) = (Vec::new(), Vec::new());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&path) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if !matches!(ext.as_deref(), Some("yaml" | "yml" | "json" | "template")) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            match Format::detect(&path, &text) {
                Format::Yaml => yaml.push(text),
                Format::Json => json.push(text),
            }
        }
    }
    (yaml, json)
}

/// The loaders on real templates: MB/s per CPU-second over the whole set, best of 3 runs.
fn corpus_throughput(dir: &std::path::Path) {
    let (yaml, json) = corpus_texts(dir);
    for (name, texts, run) in cases(yaml.as_slice(), json.as_slice()) {
        let bytes: usize = texts.iter().map(String::len).sum();
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let Some(start) = thread_cpu_ns() else { return };
            for text in texts {
                divan::black_box(run(divan::black_box(text)));
            }
            let Some(end) = thread_cpu_ns() else { return };
            best = best.min((end - start) as f64 / 1e9);
        }
        println!(
            "corpus {name}: {} files, {:.1} MB in {:.1} ms of CPU time = {:.1} MB/s (best of 3)",
            texts.len(),
            bytes as f64 / 1e6,
            best * 1e3,
            bytes as f64 / 1e6 / best,
        );
    }
}

/// Nanoseconds of CPU time this thread has used, if the kernel tells.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// The parsers alone, without building our tree: the ceiling for each loader, measured in
/// the same process so that their ratio does not depend on the machine's load.
fn saphyr_events(text: &str) -> usize {
    saphyr_parser::Parser::new_from_str(text)
        .take_while(Result::is_ok)
        .count()
}

fn jsonc_ast(text: &str) -> usize {
    let options = jsonc_parser::ParseOptions::default();
    jsonc_parser::parse_to_ast(text, &jsonc_parser::CollectOptions::default(), &options)
        .map(|p| p.value.is_some() as usize)
        .unwrap_or(0)
}

/// Something that consumes a text and returns a count, so the work is not optimised out.
type Loader = fn(&str) -> usize;

fn yaml_loader(text: &str) -> usize {
    load::load(text, Format::Yaml, &Limits::default()).map_or(0, |d| d.nodes.len())
}

fn json_loader(text: &str) -> usize {
    load::load(text, Format::Json, &Limits::default()).map_or(0, |d| d.nodes.len())
}

/// Our loaders and the bare parsers, each with its input (a text, or a corpus's texts).
fn cases<T: Copy>(yaml: T, json: T) -> [(&'static str, T, Loader); 4] {
    [
        ("yaml loader", yaml, yaml_loader),
        ("saphyr-parser events only", yaml, saphyr_events),
        ("json loader", json, json_loader),
        ("jsonc-parser AST only", json, jsonc_ast),
    ]
}

fn cpu_time_throughput() {
    const RUNS: u32 = 5;
    let (yaml, json) = (yaml_template(), json_template());
    for (name, text, run) in cases(yaml.as_str(), json.as_str()) {
        let Some(start) = thread_cpu_ns() else {
            return;
        };
        for _ in 0..RUNS {
            divan::black_box(run(divan::black_box(text)));
        }
        let Some(end) = thread_cpu_ns() else { return };
        let seconds = (end - start) as f64 / 1e9 / f64::from(RUNS);
        println!(
            "{name}: {:.1} MB in {:.1} ms of CPU time per load = {:.1} MB/s (mean of {RUNS})",
            text.len() as f64 / 1e6,
            seconds * 1e3,
            text.len() as f64 / 1e6 / seconds,
        );
    }
}

/// A YAML template of about `TARGET_BYTES`, with short-form intrinsics (`!Ref`, `!Sub`,
/// `!GetAtt`) as people write them by hand.
fn yaml_template() -> String {
    let mut out = String::from(
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n\
         Description: Generated benchmark template\nParameters:\n  Stage:\n    Type: String\n    \
         Default: prod\n    AllowedValues: [dev, prod]\nConditions:\n  IsProd: !Equals [!Ref Stage, prod]\n\
         Resources:\n",
    );
    let mut i = 0;
    while out.len() < TARGET_BYTES {
        let _ = write!(
            out,
            "  Table{i}:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: !If [IsProd, Retain, Delete]\n    \
             UpdateReplacePolicy: Retain\n    Properties:\n      TableName: !Sub '${{AWS::StackName}}-orders-{i}'\n      \
             BillingMode: PAY_PER_REQUEST\n      AttributeDefinitions:\n        - AttributeName: pk\n          \
             AttributeType: S\n        - AttributeName: sk\n          AttributeType: S\n      KeySchema:\n        \
             - AttributeName: pk\n          KeyType: HASH\n        - AttributeName: sk\n          KeyType: RANGE\n      \
             PointInTimeRecoverySpecification:\n        PointInTimeRecoveryEnabled: true\n      Tags:\n        \
             - Key: \"team\"\n          Value: \"payments-{i}\"\n  \
             Function{i}:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n      \
             Handler: index.handler\n      Role: !GetAtt Role{i}.Arn\n      MemorySize: 256\n      Timeout: 30\n      \
             Environment:\n        Variables:\n          TABLE: !Ref Table{i}\n          STAGE: !Ref Stage\n      \
             Code:\n        ZipFile: |\n          import os\n          def handler(event, context):\n            \
             return {{\"table\": os.environ[\"TABLE\"], \"n\": {i}}}\n",
        );
        i += 1;
    }
    out
}

/// A JSON template of about `TARGET_BYTES`, as `cdk synth` writes it (two-space indent,
/// long-form intrinsics).
fn json_template() -> String {
    let mut out = String::from(
        "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Parameters\": {\n    \"Stage\": {\n      \
         \"Type\": \"String\",\n      \"Default\": \"prod\"\n    }\n  },\n  \"Resources\": {\n",
    );
    let mut i = 0;
    while out.len() < TARGET_BYTES {
        if i > 0 {
            out.push_str(",\n");
        }
        let _ = write!(
            out,
            "    \"Table{i}\": {{\n      \"Type\": \"AWS::DynamoDB::Table\",\n      \"DeletionPolicy\": \"Retain\",\n      \
             \"UpdateReplacePolicy\": \"Retain\",\n      \"Properties\": {{\n        \"TableName\": {{\n          \
             \"Fn::Join\": [\"-\", [{{\"Ref\": \"AWS::StackName\"}}, \"orders\", \"{i}\"]]\n        }},\n        \
             \"BillingMode\": \"PAY_PER_REQUEST\",\n        \"AttributeDefinitions\": [\n          \
             {{\"AttributeName\": \"pk\", \"AttributeType\": \"S\"}},\n          \
             {{\"AttributeName\": \"sk\", \"AttributeType\": \"S\"}}\n        ],\n        \"KeySchema\": [\n          \
             {{\"AttributeName\": \"pk\", \"KeyType\": \"HASH\"}},\n          {{\"AttributeName\": \"sk\", \"KeyType\": \"RANGE\"}}\n        \
             ],\n        \"PointInTimeRecoverySpecification\": {{\"PointInTimeRecoveryEnabled\": true}},\n        \
             \"Tags\": [{{\"Key\": \"team\", \"Value\": \"payments-{i}\"}}]\n      }},\n      \
             \"Metadata\": {{\"aws:cdk:path\": \"Stack/Table{i}/Resource\"}}\n    }},\n    \
             \"Function{i}\": {{\n      \"Type\": \"AWS::Lambda::Function\",\n      \"Properties\": {{\n        \
             \"Runtime\": \"python3.12\",\n        \"Handler\": \"index.handler\",\n        \
             \"Role\": {{\"Fn::GetAtt\": [\"Role{i}\", \"Arn\"]}},\n        \"MemorySize\": 256,\n        \
             \"Timeout\": 30,\n        \"Environment\": {{\"Variables\": {{\"TABLE\": {{\"Ref\": \"Table{i}\"}}}}}},\n        \
             \"Code\": {{\"ZipFile\": \"import os\\ndef handler(event, context):\\n    return {i}\\n\"}}\n      }}\n    }}",
        );
        i += 1;
    }
    out.push_str("\n  }\n}\n");
    out
}

fn bench_load(bencher: Bencher, text: &str, format: Format) {
    let limits = Limits::default();
    // A template that does not load would measure the error path, not the loader.
    if let Err(e) = load::load(text, format, &limits) {
        panic!("generated {format:?} template does not load: {}", e.message);
    }
    bencher
        .counter(BytesCount::of_str(text))
        .bench(|| load::load(divan::black_box(text), format, &limits).map(|d| d.nodes.len()));
}

#[divan::bench(sample_count = 10)]
fn yaml(bencher: Bencher) {
    bench_load(bencher, &yaml_template(), Format::Yaml);
}

#[divan::bench(sample_count = 10)]
fn saphyr_events_only(bencher: Bencher) {
    let text = yaml_template();
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| saphyr_events(divan::black_box(&text)));
}

#[divan::bench(sample_count = 10)]
fn jsonc_ast_only(bencher: Bencher) {
    let text = json_template();
    bencher
        .counter(BytesCount::of_str(&text))
        .bench(|| jsonc_ast(divan::black_box(&text)));
}

#[divan::bench(sample_count = 10)]
fn json(bencher: Bencher) {
    bench_load(bencher, &json_template(), Format::Json);
}
