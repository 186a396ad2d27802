//! A depth limit for YAML, checked in one linear pass before the parser:
//! the YAML parser refuses anything past 128 levels anyway, but only after
//! work that grows with the square of the depth (100,000 brackets take it a
//! minute). Every YAML brickyard parses (compose files, answers files,
//! brickyard.yaml, catalog entries) goes through [`check_depth`].

use serde::de::DeserializeOwned;

/// Deepest nesting let through to the YAML parser, counting flow
/// collections (`[`, `{`) and block ones (indentation, `- `, `? `).
pub const MAX_DEPTH: usize = 1000;

/// Refuses text that nests past [`MAX_DEPTH`]. Quoted scalars and comments
/// are skipped; a bracket in a plain scalar, or the indentation of a block
/// scalar, is counted too, which can only overcount, and no real file
/// holds hundreds of such levels.
pub fn check_depth(text: &str) -> Result<(), String> {
    let too_deep = |line: usize, column: usize| {
        Err(format!(
            "lists or mappings nested more than {MAX_DEPTH} levels deep at line {line} column {column}"
        ))
    };
    // Block levels: the columns where an open node starts.
    let mut blocks: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let (mut line, mut column) = (1usize, 0usize);
    let mut at_line_start = true;
    let mut chars = text.chars().peekable();
    let mut previous = '\n';
    while let Some(c) = chars.next() {
        column += 1;
        if at_line_start && c != ' ' && c != '\n' {
            at_line_start = false;
            if flow == 0 && c != '#' {
                // The first character of a line's content: its column is its level.
                let col = column - 1;
                while blocks.last().is_some_and(|&top| top > col) {
                    blocks.pop();
                }
                if blocks.last().is_none_or(|&top| top < col) {
                    blocks.push(col);
                }
                if blocks.len() + flow > MAX_DEPTH {
                    return too_deep(line, column);
                }
                if matches!(c, '-' | '?') {
                    // `- - - x`: each indicator opens one more level.
                    let mut at = col;
                    while chars.peek() == Some(&' ') {
                        while chars.peek() == Some(&' ') {
                            chars.next();
                            column += 1;
                        }
                        at += 2;
                        blocks.push(at);
                        if blocks.len() > MAX_DEPTH {
                            return too_deep(line, column);
                        }
                        match chars.peek() {
                            Some('-' | '?') => {
                                chars.next();
                                column += 1;
                            }
                            _ => break,
                        }
                    }
                    previous = ' ';
                    continue;
                }
            }
        }
        match c {
            '\n' => {
                line += 1;
                column = 0;
                at_line_start = true;
            }
            '#' if previous.is_whitespace() => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '"' | '\'' if !previous.is_alphanumeric() => {
                // Skip to the closing quote; `\"` escapes in double quotes.
                while let Some(q) = chars.next() {
                    if q == '\n' {
                        line += 1;
                        column = 0;
                    }
                    if q == '\\' && c == '"' {
                        chars.next();
                    } else if q == c {
                        break;
                    }
                }
            }
            '[' | '{' => {
                flow += 1;
                if blocks.len() + flow > MAX_DEPTH {
                    return too_deep(line, column);
                }
            }
            ']' | '}' => flow = flow.saturating_sub(1),
            _ => {}
        }
        previous = c;
    }
    Ok(())
}

/// `serde_yaml::from_str` behind the depth limit.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    check_depth(text)?;
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_files_pass() {
        let compose = "services:\n  app:\n    image: x\n    ports:\n      - \"8000:8000\"\n    command: [\"a\", {b: [c]}]\n    environment:\n      - A=1\n  - - nested\n";
        assert!(check_depth(compose).is_ok());
        assert!(check_depth("a: '[[[[' # [[[[\nb: \"{{\\\"{{\"\n").is_ok());
    }

    #[test]
    fn deep_flow_block_and_compact_nesting_are_refused() {
        let flow = format!("a: {}{}\n", "[".repeat(1001), "]".repeat(1001));
        assert!(check_depth(&flow).unwrap_err().contains("line 1"));
        let mut block = String::new();
        for i in 0..1001 {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        assert!(check_depth(&block).is_err());
        let compact = format!("a:\n{}x\n", "- ".repeat(1001));
        assert!(check_depth(&compact).unwrap_err().contains("line 2"));
        // Just under the limit passes.
        let fine = format!("a: {}{}\n", "[".repeat(990), "]".repeat(990));
        assert!(check_depth(&fine).is_ok());
    }

    #[test]
    fn the_check_is_linear() {
        let big = format!("a: {}{}\n", "[".repeat(500), "]".repeat(500)).repeat(2000);
        let t = std::time::Instant::now();
        assert!(check_depth(&big).is_ok());
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
    }
}
