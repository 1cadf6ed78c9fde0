//! How a statement's Principal names a request's caller (semantics.md 2.4,
//! 2.5, 4.3), and which trust policies could name a subject at all.

use super::*;

/// The account of an IAM or STS ARN.
fn arn_account(arn: &str) -> Option<&str> {
    arn_fields(arn).map(|f| f[4])
}

/// How a Principal entry names a subject (semantics.md 2.4, 4.3).
pub(super) fn principal_match(
    estate: &Estate,
    item: &PrincipalPattern,
    subject: &Subject,
) -> Option<(Class, Guard)> {
    let known = |i: &usize| &estate.principals[*i];
    let canonical_account = |id: &str| {
        estate
            .accounts
            .values()
            .find(|a| a.canonical_id.as_deref() == Some(id))
            .map(|a| a.id.clone())
    };
    match (item, subject) {
        (PrincipalPattern::Everyone, _) => Some((Class::Public, Guard::Definite)),
        (PrincipalPattern::Account(a), Subject::Known(i)) if known(i).account == *a => {
            Some((Class::Account, Guard::Definite))
        }
        (PrincipalPattern::Account(a), Subject::Outside(x)) if a == x => {
            Some((Class::Account, Guard::Definite))
        }
        (PrincipalPattern::CanonicalUser(c), Subject::Known(_) | Subject::Outside(_)) => {
            let account = match subject {
                Subject::Known(i) => known(i).account.as_str(),
                Subject::Outside(a) => a.as_str(),
                _ => return None,
            };
            let own = estate
                .accounts
                .get(account)
                .and_then(|a| a.canonical_id.as_deref());
            match (canonical_account(c), own) {
                (Some(a), _) => (a == account).then_some((Class::Account, Guard::Definite)),
                // An ID no account of the snapshot has may be this account's
                // when its own ID is not known.
                (None, None) => Some((Class::Account, Guard::Unknown)),
                (None, Some(_)) => None,
            }
        }
        (PrincipalPattern::Arn(arn), Subject::Known(i)) => {
            let p = known(i);
            if *arn == p.arn {
                let class = if p.kind == PrincipalKind::Role {
                    Class::Role
                } else {
                    Class::Direct
                };
                return Some((class, Guard::Definite));
            }
            // An assumed-role session ARN names one session of the role (no path): the session name is free.
            let f = arn_fields(arn)?;
            let session_of = f[5]
                .strip_prefix("assumed-role/")
                .and_then(|r| r.split('/').next());
            (p.kind == PrincipalKind::Role
                && f[4] == p.account
                && session_of == Some(p.name.as_str()))
            .then_some((Class::Direct, Guard::Conditional))
        }
        // A grant naming one principal of an outside account holds for some of its principals only.
        (PrincipalPattern::Arn(arn), Subject::Outside(x)) if arn_account(arn) == Some(x) => {
            let class = if arn.contains(":role/") {
                Class::Role
            } else {
                Class::Direct
            };
            Some((class, Guard::Conditional))
        }
        (PrincipalPattern::UniqueId(id), Subject::Known(i))
            if known(i).unique_id.as_deref() == Some(id) =>
        {
            let class = if known(i).kind == PrincipalKind::Role {
                Class::Role
            } else {
                Class::Direct
            };
            Some((class, Guard::Definite))
        }
        (PrincipalPattern::Service(s), Subject::Service(x)) if s == x => {
            Some((Class::Direct, Guard::Definite))
        }
        _ => None,
    }
}

/// The links of a subject's chain that a NotPrincipal may list (semantics.md 2.5).
pub(super) fn chain_links(estate: &Estate, subject: &Subject) -> &'static [Link] {
    match subject {
        Subject::Known(i) => match estate.principals[*i].kind {
            PrincipalKind::User => &[Link::Account, Link::Own],
            PrincipalKind::Role => &[Link::Account, Link::Role, Link::Own],
            PrincipalKind::Root => &[Link::Account],
        },
        // Some principal of the account: its own link stands for that principal.
        Subject::Outside(_) => &[Link::Account, Link::Own],
        Subject::Anonymous => &[],
        Subject::Service(_) => &[Link::Own],
    }
}

/// Which link of the subject's chain a principal entry names, and how
/// certainly: a session ARN names one session of a role, an ARN in an
/// outside account one of its principals.
fn names_link(
    estate: &Estate,
    item: &PrincipalPattern,
    subject: &Subject,
) -> Option<(Link, Guard)> {
    match (item, principal_match(estate, item, subject)?) {
        (PrincipalPattern::Everyone, _) => None,
        (_, (Class::Account, g)) => Some((Link::Account, g)),
        (_, (Class::Role, g)) if matches!(subject, Subject::Known(_)) => Some((Link::Role, g)),
        (_, (_, g)) => Some((Link::Own, g)),
    }
}

/// Whether a role's trust policy could name the subject at all, so that
/// chains need not consider every (principal, role) pair.
pub fn trust_may_name(estate: &Estate, role: usize, subject: &Subject) -> bool {
    let Some(t) = estate.principals[role].trust else {
        return false;
    };
    match &estate.policies[t].body {
        Err(_) => true,
        Ok(b) => b.statements.iter().any(|st| match &st.principal {
            None => false,
            Some(set) if set.negated => true,
            Some(set) => set
                .items
                .iter()
                .any(|i| principal_match(estate, i, subject).is_some()),
        }),
    }
}

impl<'e> Built<'e> {
    pub(super) fn principal_facts(
        &mut self,
        r: ReqId,
        s: StmtId,
        st: &Statement,
        subject: &Subject,
    ) {
        let Some(set) = &st.principal else { return };
        if set.negated {
            self.facts.not_principal.push(NotPrincipalOf(r, s));
            for item in &set.items {
                if let Some((link, guard)) = names_link(self.estate, item, subject) {
                    self.facts
                        .not_principal_names
                        .push(NotPrincipalNames(r, s, link, guard));
                }
            }
            return;
        }
        for item in &set.items {
            if let Some((class, guard)) = principal_match(self.estate, item, subject) {
                self.facts
                    .principal_matches
                    .push(PrincipalMatch(r, s, class, guard));
            }
        }
    }
}
