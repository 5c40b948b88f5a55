//! Reports written as files finish: each file's part of every report goes to a spool
//! (an unnamed temporary file) the moment the checker emits it, in the report's order,
//! and nothing of it stays in memory. At the end the spools are copied to each report's
//! destination around what only the end knows (JSON's summary comes first, the human
//! summary line last), merged with the files a step across files kept or changed (see
//! `check::Checker::check_streaming`). The bytes are those of rendering the whole report
//! at once; `tests/it/stream.rs` holds them equal.
//!
//! A report whose files come before anything that only the end knows (`human`, `compact`)
//! can also go to its reader while the run goes on ([`Spool::release`]): the caller says
//! which spooled files are final (see `reach`), their bytes are copied out in order, and
//! [`Spool::finish`] writes the rest, after checking that nothing the end added or
//! changed belongs among the files already out.
//!
//! Formats whose every part is per file or per run stream: `human` (`--statistics` too:
//! its table is counted from the spooled findings), `compact`, `json` and `gitlab` (its
//! array's elements spooled as JSON's are). The others render the whole report: `sarif`
//! (a result of a rule outside the registry is numbered by its first place in the whole
//! run), `junit` (it lists passing checks, which the checker only counts when it streams)
//! and `github` (annotations sorted by severity, then by the path each is shown at, which
//! for a Serverless service's finding is its fragment's).

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use miette::GraphicalReportHandler;

use super::data::{FileReport, Report};
use super::{compact, human, json, Format, RenderOptions};

/// Whether `format` can be written file by file with these options.
pub fn streams(format: Format, _options: &RenderOptions) -> bool {
    match format {
        Format::Human | Format::Compact | Format::Json | Format::Gitlab => true,
        Format::Sarif | Format::Junit | Format::Github => false,
    }
}

/// The spooled parts of one report.
struct Part {
    format: Format,
    options: RenderOptions,
    /// One spool per section: the file list of `human` and `compact`; the `findings`,
    /// `errors` and `suppressed` arrays of `json` (elements ended by a NUL byte, which
    /// JSON text never holds); `--statistics`' findings (a `code\tname` line each, counted
    /// at the end) and error lines.
    sections: Vec<BufWriter<File>>,
    /// `human`: the miette handler, built once.
    handler: Option<GraphicalReportHandler>,
    /// The directory paths are made relative to (`gitlab`).
    cwd: Option<std::path::PathBuf>,
}

/// Reports being written file by file.
pub struct Spool {
    parts: Vec<Part>,
    /// Per emitted file: its path, then where its part of each section ends.
    index: BufWriter<File>,
    /// The bytes written so far to each section, in `parts` order.
    ends: Vec<u64>,
    error: Option<io::Error>,
    /// The files of one report already written to its destination ([`Spool::release`]).
    released: Option<Released>,
}

/// How far [`Spool::release`] has copied one report out.
struct Released {
    part: usize,
    /// Files copied out, and where the next one starts in the index and in the section.
    files: usize,
    index_at: u64,
    section_at: u64,
    /// A file was not final: nothing after it is copied out before the end.
    held: bool,
}

/// Whether a report of `format` begins with its files, so that they can go out before
/// the run ends (JSON begins with the run's summary).
pub fn releases(format: Format, options: &RenderOptions) -> bool {
    streams(format, options)
        && match format {
            Format::Human => !options.statistics,
            Format::Compact => true,
            _ => false,
        }
}

impl Spool {
    /// Spools for these reports (each a format and its options; every one must stream).
    pub fn new(reports: &[(Format, RenderOptions)]) -> io::Result<Spool> {
        let mut parts = Vec::new();
        for (format, options) in reports {
            let n = sections(*format, options);
            let handler = (*format == Format::Human).then(|| human::handler(options));
            let sections = (0..n)
                .map(|_| tempfile::tempfile().map(BufWriter::new))
                .collect::<io::Result<Vec<_>>>()?;
            parts.push(Part {
                format: *format,
                options: *options,
                sections,
                handler,
                cwd: std::env::current_dir().ok(),
            });
        }
        let sections: usize = parts.iter().map(|p| p.sections.len()).sum();
        Ok(Spool {
            parts,
            index: BufWriter::new(tempfile::tempfile()?),
            ends: vec![0; sections],
            error: None,
            released: None,
        })
    }

    /// Write one file's part of every report. An I/O error is kept for [`Spool::finish`].
    pub fn file(&mut self, file: &FileReport) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.try_file(file) {
            self.error = Some(e);
        }
    }

    fn try_file(&mut self, file: &FileReport) -> io::Result<()> {
        let mut k = 0;
        for part in &mut self.parts {
            let bytes = render_sections(
                part.format,
                &part.options,
                part.handler.as_ref(),
                part.cwd.as_deref(),
                file,
            )?;
            for (section, bytes) in part.sections.iter_mut().zip(bytes) {
                section.write_all(&bytes)?;
                self.ends[k] += bytes.len() as u64;
                k += 1;
            }
        }
        let path = file.path.as_bytes();
        self.index.write_all(&(path.len() as u64).to_le_bytes())?;
        self.index.write_all(path)?;
        for end in &self.ends {
            self.index.write_all(&end.to_le_bytes())?;
        }
        Ok(())
    }

    /// Copy report `n`'s part of the files spooled since the last call to `out`, in order,
    /// as long as `is_final` says a file's report (by its path) can no longer change nor
    /// have anything placed before it; the first that is not final, and everything after
    /// it, stays for [`Spool::finish`]. Only one report (one that [`releases`]) can be
    /// released. `Ok(false)` once a file was held back.
    pub fn release(
        &mut self,
        n: usize,
        out: &mut dyn Write,
        is_final: &mut dyn FnMut(&str) -> bool,
    ) -> io::Result<bool> {
        let first: usize = self.parts[..n].iter().map(|p| p.sections.len()).sum();
        let total = self.ends.len();
        let released = self.released.get_or_insert(Released {
            part: n,
            files: 0,
            index_at: 0,
            section_at: 0,
            held: false,
        });
        if released.part != n || self.parts[n].sections.len() != 1 {
            return Err(io::Error::other(
                "only one single-section report can be released",
            ));
        }
        if released.held || self.error.is_some() {
            return Ok(false);
        }
        self.index.flush()?;
        let index = self.index.get_mut();
        index.seek(SeekFrom::Start(released.index_at))?;
        let mut reader = BufReader::new(&*index);
        let mut end = released.section_at;
        while let Some((path, ends)) = read_entry(&mut reader, total)? {
            if !is_final(&path) {
                released.held = true;
                break;
            }
            released.files += 1;
            released.index_at += entry_len(&path, total);
            end = ends[first];
        }
        drop(reader);
        // Appends go on at the end of each file.
        index.seek(SeekFrom::End(0))?;
        if end > released.section_at {
            let section = &mut self.parts[n].sections[0];
            section.flush()?;
            let spool = section.get_mut();
            spool.seek(SeekFrom::Start(released.section_at))?;
            let copied = io::copy(&mut (&*spool).take(end - released.section_at), out);
            spool.seek(SeekFrom::End(0))?;
            copied?;
            released.section_at = end;
        }
        Ok(!released.held)
    }

    /// Write report `n` (in the order given to [`Spool::new`]) to `out`: the emitted files,
    /// except those whose path is in `replaced`, merged in path order with
    /// `report.files`, around what `report` says of the whole run. The files already
    /// released are not written again; if the end replaced one of them, or placed a file
    /// before one, the output already out is not the report's, and this is an error.
    pub fn finish(
        &mut self,
        n: usize,
        report: &Report,
        replaced: &HashSet<String>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.index.flush()?;
        let first: usize = self.parts[..n].iter().map(|p| p.sections.len()).sum();
        let part = &mut self.parts[n];
        for section in &mut part.sections {
            section.flush()?;
        }
        let (format, options) = (part.format, part.options);
        let handler = part.handler.clone();
        let handler = handler.as_ref();
        let cwd = part.cwd.clone();
        let cwd = cwd.as_deref();
        let total = self.ends.len();
        let out_already = match &self.released {
            Some(released) if released.part == n => released.files,
            _ => 0,
        };
        let mut merge = |section: usize, write: &mut dyn FnMut(&[u8]) -> io::Result<()>| {
            let spool = self.parts[n].sections[section].get_mut();
            spool.seek(SeekFrom::Start(0))?;
            let mut spool = BufReader::new(&*spool);
            let index = self.index.get_mut();
            index.seek(SeekFrom::Start(0))?;
            let mut index = BufReader::new(&*index);
            let mut kept = report.files.iter().peekable();
            let mut at = 0u64;
            let mut bytes = Vec::new();
            let mut entry = 0;
            while let Some((path, ends)) = read_entry(&mut index, total)? {
                let end = ends[first + section];
                bytes.clear();
                (&mut spool).take(end - at).read_to_end(&mut bytes)?;
                at = end;
                entry += 1;
                if entry <= out_already {
                    if replaced.contains(&path) || kept.next_if(|f| f.path < path).is_some() {
                        return Err(io::Error::other(format!(
                            "the files changed while they were checked (`{path}` was reported \
                             before a change elsewhere made its report different); run again"
                        )));
                    }
                    continue;
                }
                while let Some(file) = kept.next_if(|f| f.path < path) {
                    write(&render_sections(format, &options, handler, cwd, file)?[section])?;
                }
                if !replaced.contains(&path) {
                    write(&bytes)?;
                }
            }
            for file in kept {
                write(&render_sections(format, &options, handler, cwd, file)?[section])?;
            }
            Ok::<(), io::Error>(())
        };
        match format {
            Format::Json => {
                // The document as the whole report renders it with no files, its three
                // arrays filled from the sections.
                let skeleton = Report {
                    files: Vec::new(),
                    ..report.clone()
                };
                let mut text = Vec::new();
                json::render(&skeleton, &mut text)?;
                let mut rest = &text[..];
                for (section, key) in ["\"findings\": []", "\"errors\": []", "\"suppressed\": []"]
                    .iter()
                    .enumerate()
                {
                    let Some(at) = find(rest, key.as_bytes()) else {
                        return Err(io::Error::other("unexpected JSON report layout"));
                    };
                    let open = at + key.len() - 2;
                    out.write_all(&rest[..open])?;
                    let any = write_elements(out, |write| merge(section, write))?;
                    out.write_all(if any { b"\n  ]" } else { b"[]" })?;
                    rest = &rest[open + 2..];
                }
                out.write_all(rest)
            }
            Format::Gitlab => {
                // The array as `serde_json`'s pretty printer writes it.
                let any = write_elements(out, |write| merge(0, write))?;
                out.write_all(if any { b"\n]\n" } else { b"[]\n" })
            }
            Format::Human if options.statistics => {
                let mut counts = human::StatisticsCounts::new();
                merge(0, &mut |bytes| {
                    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                        let line = String::from_utf8_lossy(line);
                        let (code, name) = line.split_once('\t').unwrap_or((&line, ""));
                        *counts
                            .entry((code.to_string(), name.to_string()))
                            .or_default() += 1;
                    }
                    Ok(())
                })?;
                human::statistics_table(&counts, out)?;
                merge(1, &mut |bytes| out.write_all(bytes))?;
                human::statistics_tail(report, &options, out)
            }
            Format::Human => {
                merge(0, &mut |bytes| out.write_all(bytes))?;
                human::tail(report, &options, out)
            }
            _ => merge(0, &mut |bytes| out.write_all(bytes)),
        }
    }
}

/// Open a JSON array and write into it the NUL-separated elements that `merge` hands out,
/// as `serde_json`'s pretty printer separates them; whether any was written (the caller
/// closes the array, or writes `[]` when none was).
fn write_elements(
    out: &mut dyn Write,
    merge: impl FnOnce(&mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()>,
) -> io::Result<bool> {
    let mut any = false;
    merge(&mut |bytes| {
        for element in bytes.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            out.write_all(if any { b",\n" } else { b"[\n" })?;
            out.write_all(element)?;
            any = true;
        }
        Ok(())
    })?;
    Ok(any)
}

/// One file's bytes in each section of a report of `format`.
fn render_sections(
    format: Format,
    options: &RenderOptions,
    handler: Option<&GraphicalReportHandler>,
    cwd: Option<&std::path::Path>,
    file: &FileReport,
) -> io::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    match format {
        Format::Gitlab => {
            for element in super::gitlab::file_elements(file, cwd) {
                out.extend_from_slice(element.as_bytes());
                out.push(0);
            }
        }
        Format::Json => {
            return Ok(json::file_elements(file)
                .into_iter()
                .map(|elements| {
                    let mut bytes = Vec::new();
                    for element in elements {
                        bytes.extend_from_slice(element.as_bytes());
                        bytes.push(0);
                    }
                    bytes
                })
                .collect());
        }
        Format::Human if options.statistics => {
            for finding in &file.findings {
                writeln!(out, "{}\t{}", finding.code, finding.name)?;
            }
            let mut errors = Vec::new();
            human::statistics_errors(file, &mut errors)?;
            return Ok(vec![out, errors]);
        }
        Format::Human => match handler {
            Some(handler) => human::render_file(handler, file, options, &mut out)?,
            None => human::render_file(&human::handler(options), file, options, &mut out)?,
        },
        _ => compact::render_file(file, &mut out)?,
    }
    Ok(vec![out])
}

/// How many sections a report of `format` spools (see [`Part::sections`]).
fn sections(format: Format, options: &RenderOptions) -> usize {
    match format {
        Format::Json => 3,
        Format::Human if options.statistics => 2,
        _ => 1,
    }
}

fn read_entry(index: &mut impl BufRead, sections: usize) -> io::Result<Option<(String, Vec<u64>)>> {
    let mut word = [0u8; 8];
    if index.fill_buf()?.is_empty() {
        return Ok(None);
    }
    index.read_exact(&mut word)?;
    let len = usize::try_from(u64::from_le_bytes(word)).map_err(io::Error::other)?;
    let mut path = vec![0; len];
    index.read_exact(&mut path)?;
    let path = String::from_utf8(path).map_err(io::Error::other)?;
    let mut ends = Vec::with_capacity(sections);
    for _ in 0..sections {
        index.read_exact(&mut word)?;
        ends.push(u64::from_le_bytes(word));
    }
    Ok(Some((path, ends)))
}

/// The bytes of one entry of the index (see [`read_entry`]).
fn entry_len(path: &str, sections: usize) -> u64 {
    (8 + path.len() + 8 * sections) as u64
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file_error::FileError;
    use crate::report::data::{failed, summarize, Summary};

    fn options() -> RenderOptions {
        RenderOptions {
            color: false,
            width: 100,
            timing: false,
            show_suppressed: false,
            fail_on: crate::report::data::FailOn::Error,
            quiet: false,
            statistics: false,
        }
    }

    fn file(path: &str) -> FileReport {
        failed(
            path.to_string(),
            FileError::new(format!("{path} broke")),
            None,
        )
    }

    fn report(kept: &[&str]) -> Report {
        let files: Vec<FileReport> = kept.iter().map(|p| file(p)).collect();
        Report {
            summary: summarize(&files),
            files,
            elapsed: std::time::Duration::ZERO,
            stale_baseline: Vec::new(),
            unlisted: Summary::default(),
        }
    }

    /// The spool of `emitted`, with the files before `before` released into the returned
    /// bytes.
    fn released(emitted: &[&str], before: &str) -> (Spool, Vec<u8>) {
        let mut spool = Spool::new(&[(Format::Compact, options())]).expect("spool");
        let mut out = Vec::new();
        for path in emitted {
            spool.file(&file(path));
            spool
                .release(0, &mut out, &mut |p| p < before)
                .expect("release");
        }
        (spool, out)
    }

    #[test]
    fn released_files_and_the_rest_are_the_whole_report() {
        let emitted = ["a.yaml", "b.yaml", "d.yaml", "f.yaml"];
        let kept = report(&["c.yaml", "e.yaml"]);
        let mut whole = Vec::new();
        let (mut spool, _) = released(&emitted, "");
        spool
            .finish(0, &kept, &HashSet::new(), &mut whole)
            .expect("finish");
        let (mut spool, mut out) = released(&emitted, "c");
        assert_eq!(out, whole[..out.len()], "released a prefix");
        assert!(String::from_utf8_lossy(&out).contains("b.yaml broke"));
        assert!(!String::from_utf8_lossy(&out).contains("d.yaml"));
        spool
            .finish(0, &kept, &HashSet::new(), &mut out)
            .expect("finish");
        assert_eq!(out, whole);
    }

    #[test]
    fn a_file_the_end_places_before_a_released_one_or_replaces_is_an_error() {
        let emitted = ["a.yaml", "b.yaml", "d.yaml"];
        let (mut spool, _) = released(&emitted, "c");
        let mut out = Vec::new();
        assert!(spool
            .finish(0, &report(&["a0.yaml"]), &HashSet::new(), &mut out)
            .is_err());
        let (mut spool, _) = released(&emitted, "c");
        let replaced: HashSet<String> = ["b.yaml".to_string()].into();
        assert!(spool.finish(0, &report(&[]), &replaced, &mut out).is_err());
        // After the released files, both are what the end decides.
        let (mut spool, _) = released(&emitted, "c");
        let replaced: HashSet<String> = ["d.yaml".to_string()].into();
        assert!(spool
            .finish(0, &report(&["c.yaml"]), &replaced, &mut out)
            .is_ok());
    }

    #[test]
    fn nothing_after_a_held_file_is_released() {
        let mut spool = Spool::new(&[(Format::Compact, options())]).expect("spool");
        let mut out = Vec::new();
        spool.file(&file("a.yaml"));
        spool.file(&file("b.yaml"));
        let more = spool
            .release(0, &mut out, &mut |p| p != "a.yaml")
            .expect("release");
        assert!(!more);
        spool.file(&file("c.yaml"));
        assert!(!spool.release(0, &mut out, &mut |_| true).expect("release"));
        assert!(out.is_empty());
    }
}
