//! IAM globs: `*` matches any run of characters (empty and `/` included), `?`
//! exactly one. Besides matching a string, the facts need to relate a policy's
//! pattern to a query scope that is itself a glob (architecture.md): does the
//! pattern cover every ARN of the scope, some of them, or none? Both questions
//! are decided exactly on the patterns' automata, over an alphabet of the
//! characters the two patterns name plus one symbol for "any other".

use rustc_hash::FxHashMap;
use std::collections::{BTreeSet, HashSet, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// Every string of the scope matches the pattern.
    Covers,
    /// Some, not all.
    Overlaps,
    Disjoint,
}

/// Whether `text` matches the glob `pattern`.
///
/// ```
/// use bucketlog::glob::{matches, relate, Relation};
/// assert!(matches("arn:aws:s3:::b/home/*", "arn:aws:s3:::b/home/x/y", false));
/// assert!(matches("s3:Get*", "s3:getobject", true));
/// assert_eq!(relate("b/x/*", "b/x/y/*"), Relation::Overlaps);
/// ```
pub fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // ASCII (every ARN and action name the catalogue has) is matched on its
    // bytes, folding case in place: this runs for every statement a request
    // may meet, and collecting characters was a tenth of a batch of
    // decisions. Anything else goes by characters, folded as Unicode does.
    if pattern.is_ascii() && text.is_ascii() {
        let same = |p: &u8, t: &u8| match ignore_case {
            true => p.eq_ignore_ascii_case(t),
            false => p == t,
        };
        return wildcard(pattern.as_bytes(), text.as_bytes(), b'*', b'?', same);
    }
    by_characters(pattern, text, ignore_case)
}

/// `matches` by characters, case folded as Unicode does.
fn by_characters(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if ignore_case {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    wildcard(&fold(pattern), &fold(text), '*', '?', |p, t| p == t)
}

/// Classic two-pointer wildcard match with backtracking to the last `*`.
fn wildcard<T: Copy + PartialEq>(
    p: &[T],
    t: &[T],
    any: T,
    one: T,
    same: impl Fn(&T, &T) -> bool,
) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || (p[pi] != any && same(&p[pi], &t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == any)
}

/// A symbol of the finite alphabet: a named character, or any other one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sym {
    Char(char),
    Other,
}

struct Nfa(Vec<char>);

impl Nfa {
    fn closure(&self, states: impl IntoIterator<Item = usize>) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        for mut s in states {
            while out.insert(s) && s < self.0.len() && self.0[s] == '*' {
                s += 1;
            }
        }
        out
    }

    fn start(&self) -> BTreeSet<usize> {
        self.closure([0])
    }

    fn step(&self, set: &BTreeSet<usize>, sym: Sym) -> BTreeSet<usize> {
        let next = set.iter().filter_map(|&s| {
            let c = *self.0.get(s)?;
            match (c, sym) {
                ('*', _) => Some(s),
                ('?', _) => Some(s + 1),
                (c, Sym::Char(x)) if c == x => Some(s + 1),
                _ => None,
            }
        });
        self.closure(next.collect::<Vec<_>>())
    }

    fn accepts(&self, set: &BTreeSet<usize>) -> bool {
        set.contains(&self.0.len())
    }
}

fn alphabet(a: &str, b: &str) -> Vec<Sym> {
    let chars: BTreeSet<char> = a
        .chars()
        .chain(b.chars())
        .filter(|c| *c != '*' && *c != '?')
        .collect();
    chars
        .into_iter()
        .map(Sym::Char)
        .chain([Sym::Other])
        .collect()
}

/// Explores the product of the two subset automata; `stop` sees each pair of
/// state sets and ends the search by returning true.
fn explore(
    a: &str,
    b: &str,
    mut stop: impl FnMut(&Nfa, &BTreeSet<usize>, &Nfa, &BTreeSet<usize>) -> bool,
) -> bool {
    let (na, nb) = (Nfa(a.chars().collect()), Nfa(b.chars().collect()));
    let sigma = alphabet(a, b);
    let start = (na.start(), nb.start());
    let mut seen = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([start]);
    while let Some((sa, sb)) = queue.pop_front() {
        if stop(&na, &sa, &nb, &sb) {
            return true;
        }
        for &sym in &sigma {
            let next = (na.step(&sa, sym), nb.step(&sb, sym));
            if !next.0.is_empty() && seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    false
}

/// A string both globs match, when there is one: the shortest, with one
/// more character when both still match after it (`b/x/` becomes `b/x/a`, a
/// key rather than a folder marker). "Any other character" is written as the
/// first of `a`–`z`, `0`–`9` that neither glob names. Deterministic.
pub fn sample(a: &str, b: &str) -> Option<String> {
    let (na, nb) = (Nfa(a.chars().collect()), Nfa(b.chars().collect()));
    // "Any other character" first: a free character is written plainly.
    let mut sigma = alphabet(a, b);
    sigma.rotate_right(1);
    let other = ('a'..='z')
        .chain('0'..='9')
        .find(|c| !sigma.contains(&Sym::Char(*c)))?;
    let text = |sym: Sym| match sym {
        Sym::Char(c) => c,
        Sym::Other => other,
    };
    type State = (BTreeSet<usize>, BTreeSet<usize>);
    let start: State = (na.start(), nb.start());
    let mut prev: std::collections::HashMap<State, (State, char)> = Default::default();
    let mut queue = VecDeque::from([start.clone()]);
    let mut seen = HashSet::from([start.clone()]);
    while let Some(st) = queue.pop_front() {
        if na.accepts(&st.0) && nb.accepts(&st.1) {
            let mut out = Vec::new();
            let mut cur = st.clone();
            while let Some((p, c)) = prev.get(&cur) {
                out.push(*c);
                cur = p.clone();
            }
            out.reverse();
            let (ea, eb) = (na.step(&st.0, Sym::Other), nb.step(&st.1, Sym::Other));
            if na.accepts(&ea) && nb.accepts(&eb) {
                out.push(other);
            }
            return Some(out.into_iter().collect());
        }
        for &sym in &sigma {
            let next = (na.step(&st.0, sym), nb.step(&st.1, sym));
            if !next.0.is_empty() && !next.1.is_empty() && seen.insert(next.clone()) {
                prev.insert(next.clone(), (st.clone(), text(sym)));
                queue.push_back(next);
            }
        }
    }
    None
}

/// How the glob `pattern` relates to the set of strings the glob `scope` denotes.
pub fn relate(scope: &str, pattern: &str) -> Relation {
    // A string both match starts with each one's literal head and ends with
    // its literal tail: when one head is not a prefix of the other (or one
    // tail not a suffix of the other) they share nothing, and most patterns
    // of an estate are told apart from a scope this way, without automata.
    let (hs, hp) = (literal_head(scope), literal_head(pattern));
    let (ts, tp) = (literal_tail(scope), literal_tail(pattern));
    if !(hs.starts_with(hp) || hp.starts_with(hs)) || !(ts.ends_with(tp) || tp.ends_with(ts)) {
        return Relation::Disjoint;
    }
    // A scope of one string is matched or not.
    if hs.len() == scope.len() {
        return match matches(pattern, scope, false) {
            true => Relation::Covers,
            false => Relation::Disjoint,
        };
    }
    relate_by_automata(scope, pattern)
}

/// `relate` through the two automata alone.
fn relate_by_automata(scope: &str, pattern: &str) -> Relation {
    let meets = explore(scope, pattern, |na, sa, nb, sb| {
        na.accepts(sa) && nb.accepts(sb)
    });
    if !meets {
        return Relation::Disjoint;
    }
    let escapes = explore(scope, pattern, |na, sa, nb, sb| {
        na.accepts(sa) && !nb.accepts(sb)
    });
    if escapes {
        Relation::Overlaps
    } else {
        Relation::Covers
    }
}

/// The part of a glob before its first wildcard.
pub fn literal_head(glob: &str) -> &str {
    glob.find(['*', '?']).map_or(glob, |i| &glob[..i])
}

/// The part of a glob after its last wildcard.
fn literal_tail(glob: &str) -> &str {
    glob.rfind(['*', '?']).map_or(glob, |i| &glob[i + 1..])
}

/// Globs kept by their literal heads, to find the few of many that may meet
/// a scope without relating every one: two globs share a string only if one
/// literal head is a prefix of the other (`relate`'s first test). That holds
/// field by field too — a string an ARN pattern matches field by field it
/// also matches as one glob — so it serves `relate_fields`.
#[derive(Debug)]
pub struct Heads {
    globs: Vec<String>,
    /// (literal head, index into `globs`), sorted.
    heads: Vec<(String, usize)>,
}

impl Heads {
    pub fn new(globs: Vec<String>) -> Heads {
        let mut heads: Vec<(String, usize)> = globs
            .iter()
            .enumerate()
            .map(|(i, g)| (literal_head(g).to_string(), i))
            .collect();
        heads.sort_unstable();
        Heads { globs, heads }
    }

    /// The globs, in the order given, whose literal head is a prefix of
    /// the scope's or starts with it: every glob that may share a string
    /// with `scope` (and a few that do not).
    pub fn may_meet(&self, scope: &str) -> Vec<&str> {
        let head = literal_head(scope);
        let from = |h: &str| self.heads.partition_point(|(x, _)| x.as_str() < h);
        // Heads that are a proper prefix of the scope's, then those that
        // start with it (it included).
        let prefixes = head.char_indices().flat_map(|(cut, _)| {
            let h = &head[..cut];
            self.heads[from(h)..]
                .iter()
                .take_while(move |(x, _)| x == h)
        });
        let longer = self.heads[from(head)..]
            .iter()
            .take_while(|(x, _)| x.starts_with(head));
        let mut found: Vec<usize> = prefixes.chain(longer).map(|(_, i)| *i).collect();
        found.sort_unstable();
        found.into_iter().map(|i| self.globs[i].as_str()).collect()
    }
}

/// Relates an ARN pattern of a policy to an ARN scope, field by field
/// (semantics.md 2.3: the six fields are globbed separately).
pub fn relate_arn(scope: &str, pattern: &str) -> Relation {
    if pattern == "*" || !scope.contains(['*', '?']) {
        return relate_fields(scope, pattern);
    }
    // The same policy patterns meet the same scopes in every request and
    // query: each pair is related once per process.
    // By scope, then pattern: a hit allocates nothing.
    type Relations = std::sync::Mutex<FxHashMap<String, FxHashMap<String, Relation>>>;
    static CACHE: std::sync::OnceLock<Relations> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let known = |c: &FxHashMap<String, FxHashMap<String, Relation>>| {
        c.get(scope).and_then(|by| by.get(pattern)).copied()
    };
    if let Some(r) = known(&cache.lock().expect("cache lock")) {
        return r;
    }
    let r = relate_fields(scope, pattern);
    let mut c = cache.lock().expect("cache lock");
    c.entry(scope.to_string())
        .or_default()
        .insert(pattern.to_string(), r);
    r
}

/// Whether an ARN pattern of a policy matches a concrete ARN, field by
/// field: `relate_arn` when the scope is one ARN, without the automata.
pub fn arn_matches(pattern: &str, arn: &str) -> bool {
    // `"*"` is most statements' pattern: decided before splitting either.
    pattern == "*" || Arn::new(pattern).matches(&Arn::new(arn))
}

/// An ARN (or ARN pattern) split into its fields once, for matching one
/// against many: the trust index relates each role's ARN to every pattern
/// of its account.
pub struct Arn<'a> {
    text: &'a str,
    fields: Option<[&'a str; 6]>,
}

impl<'a> Arn<'a> {
    pub fn new(text: &'a str) -> Arn<'a> {
        Arn {
            text,
            fields: crate::model::arn_fields(text),
        }
    }

    /// `arn_matches(self, arn)`: self is the pattern.
    pub fn matches(&self, arn: &Arn) -> bool {
        if self.text == "*" {
            return true;
        }
        if arn.text.contains(['*', '?']) {
            return relate_each_field(arn.text, self.text) != Relation::Disjoint;
        }
        let (Some(a), Some(p)) = (&arn.fields, &self.fields) else {
            return false;
        };
        a.iter().zip(p.iter()).all(|(a, p)| matches(p, a, false))
    }
}

/// `relate_arn` without the cache, for one-off scopes.
pub fn relate_fields(scope: &str, pattern: &str) -> Relation {
    if pattern == "*" {
        return Relation::Covers;
    }
    // One concrete ARN is matched or not: no automata needed.
    if !scope.contains(['*', '?']) {
        return match arn_matches(pattern, scope) {
            true => Relation::Covers,
            false => Relation::Disjoint,
        };
    }
    relate_each_field(scope, pattern)
}

/// Field by field through the automata (semantics.md 2.3).
fn relate_each_field(scope: &str, pattern: &str) -> Relation {
    let (Some(s), Some(p)) = (
        crate::model::arn_fields(scope),
        crate::model::arn_fields(pattern),
    ) else {
        return Relation::Disjoint;
    };
    s.iter()
        .zip(p.iter())
        .map(|(s, p)| relate(s, p))
        .fold(Relation::Covers, |acc, r| acc.max(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        assert!(matches("s3:Get*", "s3:getobject", true));
        assert!(!matches("s3:Get*", "s3:getobject", false));
        assert!(matches("b/home/*", "b/home/x/y/z", false));
        assert!(matches("a?c", "abc", false));
        assert!(!matches("a?c", "ac", false));
        assert!(matches("*", "", false));
    }

    #[test]
    fn relations() {
        assert_eq!(relate("b/x/*", "b/*"), Relation::Covers);
        assert_eq!(relate("b/x/*", "b/x/y/*"), Relation::Overlaps);
        assert_eq!(relate("b/x/*", "b/y/*"), Relation::Disjoint);
        assert_eq!(relate("b/x/a.txt", "b/x/*"), Relation::Covers);
        assert_eq!(relate("b/x/a.txt", "b/x/b*"), Relation::Disjoint);
        assert_eq!(relate("b/Reports/*", "b/reports/*"), Relation::Disjoint);
        assert_eq!(relate("b/*", "b/*.csv"), Relation::Overlaps);
        assert_eq!(relate("b/?", "b/*"), Relation::Covers);
        assert_eq!(relate("b/*", "b/?*"), Relation::Overlaps);
        assert_eq!(
            relate_arn("arn:aws:s3:::b-prod/k", "arn:aws:s3:::b*"),
            Relation::Covers
        );
        assert_eq!(
            relate_arn("arn:aws:s3:::b", "arn:aws:s3:::b/*"),
            Relation::Disjoint
        );
    }

    proptest::proptest! {
        /// Telling globs apart by their literal heads and tails never
        /// changes the relation the automata find.
        #[test]
        fn literal_ends_agree_with_the_automata(
            scope in "[ab/*?]{0,6}",
            pattern in "[ab/*?]{0,6}",
        ) {
            proptest::prop_assert_eq!(relate(&scope, &pattern), relate_by_automata(&scope, &pattern));
        }

        /// Matching ASCII by its bytes agrees with matching by characters
        /// folded as Unicode does (the path every other text takes).
        #[test]
        fn ascii_bytes_agree_with_characters(
            pattern in "[aAbB/*?]{0,7}",
            text in "[aAbB/]{0,7}",
            ignore_case: bool,
        ) {
            proptest::prop_assert_eq!(
                matches(&pattern, &text, ignore_case),
                by_characters(&pattern, &text, ignore_case)
            );
        }

        /// The heads leave out only globs the automata find disjoint from
        /// the scope, whole and field by field.
        #[test]
        fn heads_leave_out_only_disjoint_globs(
            scope in "arn:aws:s3:[a:*]{0,3}:[ab/*?]{0,5}",
            globs in proptest::collection::vec("(\\*|arn:aws:s3:[a:*?]{0,3}:[ab/*?]{0,5})", 0..8),
        ) {
            let heads = Heads::new(globs.clone());
            let kept = heads.may_meet(&scope);
            for g in &globs {
                if !kept.contains(&g.as_str()) {
                    proptest::prop_assert_eq!(relate(&scope, g), Relation::Disjoint);
                    proptest::prop_assert_eq!(relate_fields(&scope, g), Relation::Disjoint);
                }
            }
        }

        /// On one concrete ARN, matching agrees with the automata.
        #[test]
        fn arn_matches_is_relate_arn(
            arn in "arn:aws:iam::(1|2):(role|user)/[ab:/]{0,4}",
            pattern in "(\\*|arn:aws:iam::[12*?]:[ab*?:/]{0,5})",
        ) {
            proptest::prop_assert_eq!(
                arn_matches(&pattern, &arn),
                relate_each_field(&arn, &pattern) != Relation::Disjoint || pattern == "*"
            );
        }
    }

    #[test]
    fn samples() {
        assert_eq!(sample("b/*", "b/public/*").as_deref(), Some("b/public/a"));
        assert_eq!(sample("b/x?", "b/*").as_deref(), Some("b/xa"));
        assert_eq!(sample("b/k", "b/*").as_deref(), Some("b/k"));
        assert_eq!(sample("b/x/*", "b/y/*"), None);
        let s = sample("b/a*", "*a").expect("meets");
        assert!(
            matches("b/a*", &s, false) && matches("*a", &s, false),
            "{s}"
        );
    }
}
