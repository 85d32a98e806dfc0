//! `-b` and `-c`: curl's cookie engine over the library's cookie jar.
//!
//! `-b FILE` loads a Netscape cookie file (see [`wayfarer_core::cookies::netscape`]) into a
//! [`MemoryCookieJar`]; `-c FILE` writes the jar back after the transfer, with whatever the
//! responses set, deleted or let expire. Either one turns the jar on, so cookies a redirect's
//! response sets are sent on the next hop, as curl does. As with curl:
//!
//! - an argument of `-b` that contains `=` is not a file but cookies to send as they are
//!   (`-b 'a=1; b=2'`), in a `Cookie` header on every request of the transfer;
//! - a `-b` file that does not exist is not an error: the jar just starts empty;
//! - `-c -` writes the jar to standard output;
//! - the jar file is written even when the transfer failed, so cookies set by the hops that
//!   did succeed are kept;
//! - the jar file is replaced whole (written next to it, then renamed over it), so a crash or
//!   a full disk never leaves it cut short.
//!
//! When the command sends cookies of its own, curl sends the jar's too, first: with
//! `-b STRING`, in the same field, before the string (`Cookie: jar=1; mine=2`); with a `Cookie`
//! header given with `-H` (which leaves the `-b` strings out), in a field of their own before
//! it (`Cookie: jar=1`, then `Cookie: mine=2`). The library's bridge sends them so when told to
//! ([`JarCookiesWithOwn`]), above the cache, which therefore stores and matches responses that
//! vary by `Cookie` with every cookie the request is sent with.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use wayfarer_core::ClientBuilder;
use wayfarer_core::cookies::{JarCookiesWithOwn, MemoryCookieJar, netscape};

use crate::exit::{Failure, code};

/// What the `-b` arguments say, split into files and literal cookie strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieSource {
    /// A Netscape cookie file to load into the jar.
    File(PathBuf),
    /// `name=value` pairs to send as they are.
    Literal(String),
}

/// Parses one `-b` argument: curl treats any argument with a `=` as cookies, anything else as a
/// file name.
pub fn parse_source(arg: &str) -> Result<CookieSource, String> {
    if arg.contains('=') {
        if arg.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err("cookies may not contain CR, LF or NUL".to_owned());
        }
        Ok(CookieSource::Literal(arg.to_owned()))
    } else if arg.is_empty() {
        Err("an empty cookie file name".to_owned())
    } else {
        Ok(CookieSource::File(PathBuf::from(arg)))
    }
}

/// The cookie engine of one command: the jar (when `-b FILE` or `-c` asks for one), the
/// literal cookies to send, and where to save the jar.
pub struct CookieEngine {
    jar: Option<Arc<MemoryCookieJar>>,
    literal: Option<String>,
    save_to: Option<PathBuf>,
}

impl CookieEngine {
    /// Loads the `-b` files (at `now`) and notes the `-c` target.
    pub fn load(
        sources: &[CookieSource],
        save_to: Option<&Path>,
        now: SystemTime,
    ) -> Result<CookieEngine, Failure> {
        let files: Vec<&Path> = sources
            .iter()
            .filter_map(|s| match s {
                CookieSource::File(path) => Some(path.as_path()),
                CookieSource::Literal(_) => None,
            })
            .collect();
        let literals: Vec<&str> = sources
            .iter()
            .filter_map(|s| match s {
                CookieSource::Literal(text) => Some(text.trim().trim_end_matches(';')),
                CookieSource::File(_) => None,
            })
            .collect();
        let jar =
            (!files.is_empty() || save_to.is_some()).then(|| Arc::new(MemoryCookieJar::new()));
        if let Some(jar) = &jar {
            for path in files {
                let bytes = match std::fs::read(path) {
                    Ok(bytes) => bytes,
                    // curl starts with an empty jar when the file is missing (so that `-b f -c f`
                    // works on the first run).
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        return Err(Failure::new(
                            code::READ_ERROR,
                            format!("could not read cookie file {}: {e}", path.display()),
                        ));
                    }
                };
                for cookie in netscape::parse(now, &bytes) {
                    // An expired cookie or one over the jar's limits is dropped, as a browser
                    // would drop it; it is not an error in the file.
                    let _ = jar.insert(now, cookie);
                }
            }
        }
        Ok(CookieEngine {
            jar,
            literal: (!literals.is_empty()).then(|| literals.join("; ")),
            save_to: save_to.map(Path::to_path_buf),
        })
    }

    /// The `Cookie` header value for `-b STRING`, if any.
    pub fn literal(&self) -> Option<&str> {
        self.literal.as_deref()
    }

    /// Gives `builder` the jar, if the command has one. `header` says whether `-H` sets (or
    /// removes) the `Cookie` header, which then replaces the `-b` strings.
    ///
    /// The jar's cookies go with the command's own as curl sends them: in a field of their own
    /// before a `Cookie` header given with `-H`, or first in the field of the `-b` strings.
    pub fn configure<C>(&self, builder: ClientBuilder<C>, header: bool) -> ClientBuilder<C> {
        let Some(jar) = &self.jar else {
            return builder;
        };
        let with_own = if header {
            JarCookiesWithOwn::OwnFieldFirst
        } else {
            JarCookiesWithOwn::JoinedFirst
        };
        builder
            .cookie_jar(jar.clone())
            .jar_cookies_with_own(with_own)
    }

    /// Writes the jar to the `-c` file (or standard output for `-`), as of `now`.
    pub fn save(&self, now: SystemTime) -> Result<(), Failure> {
        let (Some(path), Some(jar)) = (&self.save_to, &self.jar) else {
            return Ok(());
        };
        let text = netscape::write(&jar.all(now));
        let result = if path.as_os_str() == "-" {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        } else {
            write_replacing(path, text.as_bytes())
        };
        result.map_err(|e| {
            Failure::new(
                code::WRITE_ERROR,
                format!("could not write cookie file {}: {e}", path.display()),
            )
        })
    }
}

/// Writes `bytes` as the file at `path` by writing a temporary file next to it and renaming it
/// over `path`, so that a reader, or a crash or full disk halfway through, finds the old jar
/// or the new one whole, never one cut short (curl saves its cookie jar the same way).
///
/// Something other than a regular file (`-c /dev/null`) is written in place; a symbolic link
/// is followed, so the file it names is replaced and the link kept; an existing file keeps its
/// permissions.
fn write_replacing(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (target, permissions) = match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return std::fs::write(path, bytes),
        Ok(meta) => (path.canonicalize()?, Some(meta.permissions())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (path.to_path_buf(), None),
        Err(e) => return Err(e),
    };
    let Some(name) = target.file_name() else {
        return std::fs::write(path, bytes);
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = target.with_file_name(tmp_name);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_with_an_equals_sign_are_cookies_and_others_files() {
        assert_eq!(
            parse_source("a=1; b=2"),
            Ok(CookieSource::Literal("a=1; b=2".into()))
        );
        assert_eq!(
            parse_source("jar.txt"),
            Ok(CookieSource::File("jar.txt".into()))
        );
        assert!(parse_source("a=1\r\nX: y").is_err());
        assert!(parse_source("").is_err());
    }

    #[test]
    fn a_missing_file_starts_an_empty_jar_and_literals_are_joined() {
        let sources = [
            CookieSource::File("/nonexistent/wayfarer-cookies".into()),
            CookieSource::Literal("a=1;".into()),
            CookieSource::Literal("b=2".into()),
        ];
        let engine = CookieEngine::load(&sources, None, SystemTime::UNIX_EPOCH).unwrap();
        let jar = engine.jar.as_ref().expect("a -b file turns the jar on");
        assert!(jar.all(SystemTime::UNIX_EPOCH).is_empty());
        assert_eq!(engine.literal(), Some("a=1; b=2"));
    }

    /// A jar holding one host-only session cookie `name=value` for example.com.
    fn engine_saving_to(path: &Path, name: &str, value: &str) -> CookieEngine {
        let engine = CookieEngine::load(&[], Some(path), SystemTime::UNIX_EPOCH).unwrap();
        let url = wayfarer_core::Url::parse("http://example.com/").unwrap();
        let jar = engine.jar.as_ref().unwrap();
        jar.set_cookie(SystemTime::UNIX_EPOCH, &url, &format!("{name}={value}"))
            .unwrap();
        engine
    }

    #[test]
    fn the_jar_file_is_replaced_whole_never_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jar.txt");
        engine_saving_to(&path, "a", "old")
            .save(SystemTime::UNIX_EPOCH)
            .unwrap();
        // Another process reading the file meanwhile (or a crash halfway through the save)
        // sees the old file whole, not one cut short by a truncation.
        let mut reader = std::fs::File::open(&path).unwrap();
        engine_saving_to(&path, "a", "new")
            .save(SystemTime::UNIX_EPOCH)
            .unwrap();
        let mut before = String::new();
        std::io::Read::read_to_string(&mut reader, &mut before).unwrap();
        assert!(before.ends_with("\ta\told\n"), "{before}");
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(after.ends_with("\ta\tnew\n"), "{after}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["jar.txt"], "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn a_jar_saved_to_a_device_or_through_a_link_is_written_there() {
        let dir = tempfile::tempdir().unwrap();
        engine_saving_to(Path::new("/dev/null"), "a", "b")
            .save(SystemTime::UNIX_EPOCH)
            .unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
        let file = dir.path().join("real.txt");
        let link = dir.path().join("link.txt");
        std::fs::write(&file, "").unwrap();
        std::os::unix::fs::symlink(&file, &link).unwrap();
        engine_saving_to(&link, "a", "b")
            .save(SystemTime::UNIX_EPOCH)
            .unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert!(
            std::fs::read_to_string(&file)
                .unwrap()
                .ends_with("\ta\tb\n")
        );
    }

    #[test]
    fn without_b_files_or_c_there_is_no_jar() {
        let sources = [CookieSource::Literal("a=1".into())];
        let engine = CookieEngine::load(&sources, None, SystemTime::UNIX_EPOCH).unwrap();
        assert!(engine.jar.is_none());
    }
}
