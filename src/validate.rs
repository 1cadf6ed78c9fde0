//! `bucketlog validate`: lints every policy of the estate. Grammar errors come
//! from loading; these are the warnings a reviewer wants on valid policies.

use crate::catalog::Catalog;
use crate::diag::Diagnostic;
use crate::model::{arn_fields, Effect, Estate, PrincipalPattern};

pub fn lint(estate: &Estate) -> Vec<Diagnostic> {
    let catalog = Catalog::get();
    let mut out = Vec::new();
    for pol in &estate.policies {
        let Ok(body) = &pol.body else { continue };
        for st in &body.statements {
            let span = st.span.clone();
            let label = &st.label;
            for a in &st.action.items {
                let s3 = a.to_ascii_lowercase().starts_with("s3:");
                if s3 && catalog.matching(a).next().is_none() {
                    out.push(Diagnostic::warning(span.clone(), format!("statement {label}: action `{a}` matches no S3 action, so it grants or denies nothing")));
                }
            }
            let federated = st.principal.as_ref().is_some_and(|p| {
                p.items
                    .iter()
                    .any(|i| matches!(i, PrincipalPattern::Federated(_)))
            });
            if federated {
                out.push(Diagnostic::warning(span.clone(), format!("statement {label}: Federated (web-identity/SAML) principals are not modelled: their sessions do not appear in answers")));
            }
            if st.action.negated && st.effect == Effect::Allow {
                out.push(Diagnostic::warning(span.clone(), format!("statement {label}: Allow with NotAction grants every other action of every service")));
            }
            if st.effect == Effect::Allow && st.principal.as_ref().is_some_and(|p| p.negated) {
                out.push(Diagnostic::warning(span.clone(), format!("statement {label}: Allow with NotPrincipal allows everyone not listed, anonymous users included")));
            }
            let only_s3 = !st.action.negated
                && st
                    .action
                    .items
                    .iter()
                    .all(|a| a.to_ascii_lowercase().starts_with("s3:"));
            if let (true, Some(res)) = (only_s3, &st.resource) {
                for r in res.items.iter().filter(|r| *r != "*") {
                    if arn_fields(r).is_some_and(|f| f[2] != "s3" && !f[2].contains('*')) {
                        out.push(Diagnostic::warning(
                            span.clone(),
                            format!("statement {label}: resource `{r}` can never match an S3 ARN"),
                        ));
                    }
                }
            }
        }
    }
    out
}
