//! Templates the AWS CDK synthesized (`cdk synth`): a resource with `Metadata.aws:cdk:path`,
//! or a template in a cloud assembly (a `cdk.out` directory holding `manifest.json`). The
//! template is output, rewritten by the next `cdk synth`, so a finding there names the
//! construct it came from and gives the fix in the CDK app's terms, and `--fix` does not
//! edit the file.
//!
//! The property names are aws-cdk-lib's (`aws-dynamodb/lib/table.ts` `TableOptions`,
//! `table-v2.ts` `TableOptionsV2`, `shared.ts` `PointInTimeRecoverySpecification`,
//! `core/lib/removal-policy.ts` `RemovalPolicy`): both `Table` and `TableV2` take
//! `removalPolicy` (default `RETAIN`) and `deletionProtection`; `TableV2` takes
//! `pointInTimeRecoverySpecification` (its `pointInTimeRecovery` is deprecated), and
//! `Table` `pointInTimeRecovery` or, in newer releases, `pointInTimeRecoverySpecification`.
//! `RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE` synthesizes `DeletionPolicy:
//! RetainExceptOnCreate` and `UpdateReplacePolicy: Retain`.

use std::path::{Path, PathBuf};

use crate::finding::{CdkOrigin, Finding};
use crate::load::tree::Document;
use crate::model::Template;
use crate::rules::RuleOptions;

/// The metadata key `cdk synth` writes on every resource (unless path metadata is off).
pub const PATH_KEY: &str = "aws:cdk:path";

/// What is known of a synthesized template as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Synthesized {
    /// The stack's name from the cloud assembly's `manifest.json`, when the template is in
    /// one and the manifest names it.
    pub stack: Option<String>,
}

/// Is the template at `path` synthesized by the CDK: in a cloud assembly, or holding a
/// resource with `aws:cdk:path`? `None` for a hand-written template.
pub fn synthesized(path: &Path, template: &Template) -> Option<Synthesized> {
    let assembly = cloud_assembly(path);
    let has_paths = template
        .resources
        .iter()
        .any(|r| path_text(template.doc, r.node).is_some());
    match assembly {
        Some(manifest) => Some(Synthesized {
            stack: stack_name(&manifest, path),
        }),
        None if has_paths => Some(Synthesized { stack: None }),
        None => None,
    }
}

/// The `aws:cdk:path` of a resource, without the `/Resource` (or `/Default`) child that
/// the L2 construct wraps its CloudFormation resource in: the construct's path as the
/// CDK app names it (`AppStack/CartTable`).
pub fn construct_path(doc: &Document, resource: crate::load::tree::NodeId) -> Option<String> {
    let path = path_text(doc, resource)?;
    let trimmed = path
        .strip_suffix("/Resource")
        .or_else(|| path.strip_suffix("/Default"))
        .unwrap_or(path);
    Some(trimmed.to_string())
}

/// A resource's `aws:cdk:path` as written.
fn path_text<'d>(doc: &'d Document, resource: crate::load::tree::NodeId) -> Option<&'d str> {
    doc.get_value(resource, "Metadata")
        .and_then(|m| doc.get_value(m, PATH_KEY))
        .and_then(|p| doc.str(p))
}

/// The `manifest.json` of the cloud assembly holding `path`: the nearest one in a parent
/// directory, not above the `cdk.out` directory (nested assemblies of CDK stages have
/// their own).
fn cloud_assembly(path: &Path) -> Option<PathBuf> {
    // An absolute path is made absolute only by dropping `.` components and repeated
    // separators, which cannot make `cdk.out` appear: one that does not spell it is
    // outside any `cdk.out` without the copy (`std::path::absolute` was 3,800
    // instructions per template; issue 23). A relative one may be inside through the
    // working directory.
    if path.is_absolute()
        && memchr::memmem::find(path.as_os_str().as_encoded_bytes(), b"cdk.out").is_none()
    {
        return None;
    }
    let absolute = std::path::absolute(path).ok()?;
    let in_cdk_out = |d: &Path| d.file_name().is_some_and(|n| n == "cdk.out");
    // Outside a `cdk.out` directory there is no assembly to find: decided from the path
    // alone, before any file-system call (a `stat` per parent directory of every template
    // cost more than its rules), and first from its bytes: a path that does not spell
    // `cdk.out` has no directory of that name (splitting every path into its components
    // cost a third of this function).
    let parent = absolute.parent()?;
    let spelled = memchr::memmem::find(parent.as_os_str().as_encoded_bytes(), b"cdk.out");
    if spelled.is_none() || !parent.ancestors().any(in_cdk_out) {
        return None;
    }
    let mut dir = absolute.parent();
    let mut found = None;
    while let Some(d) = dir {
        if found.is_none() && d.join("manifest.json").is_file() {
            found = Some(d.join("manifest.json"));
        }
        if in_cdk_out(d) {
            return found;
        }
        dir = d.parent();
    }
    None
}

/// The stack whose `templateFile` is this file, from the manifest: its `stackName`
/// property, else its artifact ID (the construct ID, which is the default stack name).
fn stack_name(manifest: &Path, template: &Path) -> Option<String> {
    const MAX: u64 = 16 * 1024 * 1024;
    let bytes = crate::read::file(manifest, MAX).ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let file_name = template.file_name()?.to_str()?;
    let artifacts = json.get("artifacts")?.as_object()?;
    artifacts.iter().find_map(|(id, artifact)| {
        if artifact.get("type")?.as_str()? != "aws:cloudformation:stack" {
            return None;
        }
        let properties = artifact.get("properties")?;
        let template_file = properties.get("templateFile")?.as_str()?;
        if Path::new(template_file).file_name()?.to_str()? != file_name {
            return None;
        }
        let name = properties
            .get("stackName")
            .and_then(|n| n.as_str())
            .unwrap_or(id);
        Some(name.to_string())
    })
}

/// Name the construct of each finding and give its fix in the CDK app's terms. Fixes that
/// edit the template are dropped: the next `cdk synth` would undo them.
pub fn explain(
    findings: &mut [Finding],
    template: &Template,
    synthesized: &Synthesized,
    options: &RuleOptions,
) {
    for finding in findings {
        let resource = template.resource(&finding.resource);
        let construct = resource.and_then(|r| construct_path(template.doc, r.node));
        let type_name = resource.and_then(|r| r.type_name).unwrap_or_default();
        let name = match &construct {
            Some(path) => format!("`{path}`"),
            None => format!("the construct of `{}`", finding.resource),
        };
        if let Some(path) = &construct {
            finding
                .message
                .push_str(&format!(" (CDK construct `{path}`)"));
        }
        let v2 = type_name == "AWS::DynamoDB::GlobalTable";
        let class = if v2 { "TableV2" } else { "Table" };
        let retain = if options.allow_retain_except_on_create {
            " (or `RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE`, which keeps it except when its own creation fails)"
        } else {
            ""
        };
        let cdk_help = match finding.code {
            "DDB001" | "DDB002" => Some(format!(
                "in the CDK app, set `removalPolicy: RemovalPolicy.RETAIN` on {name}{retain}; it synthesizes `DeletionPolicy` and `UpdateReplacePolicy`"
            )),
            "DDB003" => Some(format!(
                "in the CDK app, set `deletionProtection: true` on the {class} {name}"
            )),
            "DDB004" if v2 => Some(format!(
                "in the CDK app, set `pointInTimeRecoverySpecification: {{ pointInTimeRecoveryEnabled: true }}` on the TableV2 {name} (`pointInTimeRecovery` is deprecated)"
            )),
            "DDB004" => Some(format!(
                "in the CDK app, set `pointInTimeRecoverySpecification: {{ pointInTimeRecoveryEnabled: true }}` on the Table {name} (`pointInTimeRecovery: true` in aws-cdk-lib releases without it)"
            )),
            _ => None,
        };
        let stack = synthesized
            .stack
            .as_ref()
            .map(|s| format!(" of stack `{s}`"))
            .unwrap_or_default();
        let note = format!(
            "this template{stack} is synthesized by the CDK: change the app, not this file, which the next `cdk synth` overwrites"
        );
        finding.help = Some(match (cdk_help, finding.help.take()) {
            (Some(cdk), _) => format!("{cdk}\n{note}"),
            (None, Some(help)) => format!("{help}\n{note}"),
            (None, None) => note,
        });
        finding.fix = None;
        finding.cdk = Some(Box::new(CdkOrigin {
            construct_path: construct,
            stack: synthesized.stack.clone(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"{"version": "36.0.0", "artifacts": {
        "AppStack": {"type": "aws:cloudformation:stack",
                     "properties": {"templateFile": "AppStack.template.json", "stackName": "shop-prod"}},
        "DataStack": {"type": "aws:cloudformation:stack",
                      "properties": {"templateFile": "DataStack.template.json"}},
        "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}}"#;

    #[test]
    fn the_stack_is_named_by_its_manifest_entry() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("cdk.out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("manifest.json"), MANIFEST).unwrap();
        let manifest = out.join("manifest.json");
        let name = |file: &str| stack_name(&manifest, &out.join(file));
        assert_eq!(name("AppStack.template.json").as_deref(), Some("shop-prod"));
        // Without `stackName`, the artifact ID is the stack's name.
        assert_eq!(
            name("DataStack.template.json").as_deref(),
            Some("DataStack")
        );
        assert_eq!(name("Other.template.json"), None);
    }

    #[test]
    fn the_nearest_manifest_counts_only_inside_cdk_out() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("cdk.out/assembly-Prod");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::write(dir.path().join("cdk.out/manifest.json"), MANIFEST).unwrap();
        std::fs::write(nested.join("manifest.json"), MANIFEST).unwrap();
        // A stage's nested assembly has its own manifest.
        assert_eq!(
            cloud_assembly(&nested.join("AppStack.template.json")),
            Some(nested.join("manifest.json"))
        );
        assert_eq!(
            cloud_assembly(&dir.path().join("cdk.out/AppStack.template.json")),
            Some(dir.path().join("cdk.out/manifest.json"))
        );
        // `.` components and doubled separators: the same directories.
        for odd in [
            "./cdk.out/./AppStack.template.json",
            "cdk.out//AppStack.template.json",
        ] {
            assert_eq!(
                cloud_assembly(&dir.path().join(odd)),
                Some(dir.path().join("cdk.out/manifest.json")),
                "{odd}"
            );
        }
        // A manifest.json elsewhere does not make a cloud assembly.
        let other = dir.path().join("build");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("manifest.json"), MANIFEST).unwrap();
        assert_eq!(cloud_assembly(&other.join("AppStack.template.json")), None);
        // Nor does a directory whose name only holds `cdk.out`.
        let spelled = dir.path().join("old-cdk.out.bak");
        std::fs::create_dir(&spelled).unwrap();
        std::fs::write(spelled.join("manifest.json"), MANIFEST).unwrap();
        assert_eq!(
            cloud_assembly(&spelled.join("AppStack.template.json")),
            None
        );
    }
}
