//! Files a command writes: checked before any work is done, so that a
//! report never replaces the command's own inputs (the oplog it prints, the
//! component it tests) nor, unless `--force` says so, any other file.

use std::path::Path;

use crate::error::CliError;

/// Check that `output` may be written by a command reading `inputs`.
pub fn check(output: &Path, inputs: &[&Path], force: bool) -> Result<(), CliError> {
    for input in inputs {
        if same_file(output, input) {
            return Err(CliError::input(format!(
                "{} is also an input of this command; writing to it would replace it",
                output.display()
            ))
            .hint("write the output to another file"));
        }
    }
    match std::fs::symlink_metadata(output) {
        Ok(meta) if meta.is_dir() => {
            Err(CliError::input(format!("{} is a folder", output.display())).hint("name a file to write"))
        }
        Ok(_) if !force => Err(CliError::input(format!("{} already exists", output.display()))
            .hint("pass --force to replace it, or choose another file")),
        _ => Ok(()),
    }
}

/// Whether two paths name the same existing file (through links too).
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(a_meta), Ok(b_meta)) = (std::fs::metadata(a), std::fs::metadata(b)) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (a_meta.dev(), a_meta.ino()) == (b_meta.dev(), b_meta.ino()) {
            return true;
        }
    }
    let _ = (a_meta, b_meta);
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_and_existing_files_are_refused_and_force_allows_only_the_latter() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.oplog");
        std::fs::write(&input, b"x").unwrap();
        let other = dir.path().join("report.html");
        assert!(check(&other, &[&input], false).is_ok(), "a new file");
        std::fs::write(&other, b"old").unwrap();
        assert!(check(&other, &[&input], false).unwrap_err().to_string().contains("already exists"));
        assert!(check(&other, &[&input], true).is_ok());
        // The input itself, also by another spelling of its path.
        let again = dir.path().join(".").join("in.oplog");
        for path in [&input, &again] {
            let e = check(path, &[&input], true).unwrap_err().to_string();
            assert!(e.contains("also an input"), "{e}");
        }
        assert!(check(dir.path(), &[&input], true).unwrap_err().to_string().contains("is a folder"));
    }
}
