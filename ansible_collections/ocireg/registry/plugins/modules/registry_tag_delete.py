#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_tag_delete
short_description: Delete tags from a repository in an OCI / Docker registry, safely
version_added: 0.1.0
description:
  - Deletes exactly the chosen tags of one repository, either named in O(tags) or selected by
    a retention policy (O(patterns), O(excludes), O(keep_latest), O(older_than)).
  - Other tags keep working. Deleting a tag by digest would delete every tag on that digest,
    so the tags are removed with the ocireg SDK's safe tag deletion (the rules of its
    C(delete_tag), applied to the whole set on one read of the repository), which picks the
    least destructive way the registry supports. A manifest that a tag that stays still uses,
    directly or as the child of an index, is never removed; O(shared_digest) says what happens
    to chosen tags on such manifests. No option deletes a manifest regardless.
  - A manifest goes with its last tag. Indexes are deleted before the images they list, so
    deleting an index tag and the tags of its images removes them all.
  - Before it changes anything the module plans every tag (with read-only requests), so a
    registry that has deletes disabled, or O(shared_digest=fail), fails the task before any
    change. Check mode reports this plan and changes nothing; the real run carries it out and
    reports the same result.
  - Deleting tags and manifests does not free storage until the registry runs its garbage
    collection, and cannot be undone.
author:
  - ocireg maintainers (@ocireg)
extends_documentation_fragment:
  - ocireg.registry.registry
  - ocireg.registry.registry.MODULE
  - ocireg.registry.attributes
  - ocireg.registry.attributes.ACTIONGROUP_REGISTRY
attributes:
  check_mode:
    support: full
    details:
      - Sends only requests that change nothing (C(GET), C(HEAD), and C(DELETE) of random names
        that cannot exist, to learn whether the registry allows deletes), and returns the
        result the real run would.
  diff_mode:
    support: full
    details:
      - The repository's tags before and after.
  idempotent:
    support: full
    details:
      - Tags already gone are reported in RV(not_found) and do not count as a change.
options:
  repository:
    description:
      - The repository, with its registry host, without tag or digest, for example
        V(quay.io/org/app) or V(127.0.0.1:5000/team/app).
    type: str
    required: true
    aliases:
      - name
  tags:
    description:
      - The tags to delete. Tags that do not exist are reported in RV(not_found).
      - Mutually exclusive with the selection options O(patterns), O(excludes),
        O(keep_latest) and O(older_than).
    type: list
    elements: str
  patterns:
    description:
      - Selects the candidates for deletion, the tags that match any of these regular
        expressions, or all tags when none is given, minus O(excludes).
      - How an expression must match is set by O(match); by default it must match the whole tag,
        so V(^1\\.) matches no tag (write V(1\\..*), or use O(match=prefix)).
      - A pattern that matches no tag at all gives a warning. RV(selection) says which pattern
        selected each tag.
      - Referrers fallback tags (C(sha256-<hex>), the lists of signatures and SBOMs on
        registries without the referrers API) are never candidates; name them in O(tags)
        to delete them.
    type: list
    elements: str
  excludes:
    description:
      - Tags that match any of these regular expressions (as O(match) says) are never candidates
        for deletion.
      - An exclude that matches no tag protects nothing and gives a warning. RV(selection) says
        which exclude protected each tag.
    type: list
    elements: str
  match:
    description:
      - How the regular expressions of O(patterns) and O(excludes) must match a tag.
      - V(full) (GitLab's convention) - the whole tag, as with C(re.fullmatch); V(1\\..*) matches
        C(1.2) but not C(v1.2).
      - V(prefix) - from the start of the tag, as with C(re.match); V(1\\.) matches C(1.2) and C(1.10).
      - V(search) - anywhere in the tag, as with C(re.search); V(rc) matches C(1.0-rc1).
    type: str
    choices:
      - full
      - prefix
      - search
    default: full
  sort:
    description:
      - The order of the tag lists returned (RV(deleted), RV(not_found), RV(selection), the diff),
        and how images with the same creation time rank for O(keep_latest) (by their highest tag).
      - V(version) compares the runs of digits in a tag as numbers and the other runs as text, so
        C(1.2) comes before C(1.10) and C(b9) before C(b10); a tag that is the start of another
        comes first (C(1.0) before C(1.0-rc1)). V(text) is plain string order. V(none) reports
        tags in the order they were deleted.
    type: str
    choices:
      - version
      - text
      - none
    default: version
  keep_latest:
    description:
      - Keeps the candidates' tags on the N newest distinct images, ranked by the C(created)
        time of their image config. Several tags on one image count as one image; images
        without a creation time rank oldest.
      - This is the "never fewer than N" reading of GitLab's cleanup policy. O(older_than)
        only narrows what is deleted among the other candidates, so the N newest images stay
        even when they are older than O(older_than). Without O(older_than), every other
        candidate is deleted.
    type: int
  older_than:
    description:
      - Of the candidates not kept by O(keep_latest), deletes only those whose image is older
        than this; without it, all of them are deleted.
      - A number and a unit C(s), C(m), C(h), C(d) or C(w), or several of them, for example
        V(30d), V(12h), V(2w) or V(1w2d). Images without a creation time are never deleted by age.
    type: str
  age_from:
    description:
      - What O(older_than) and O(keep_latest) go by.
      - V(created) - the C(created) time of the image config.
      - V(pushed) - when the registry received the image, which only a registry-native listing
        says (an ocireg plugin that offers the registry's own API, such as ECR's
        C(DescribeImages)); tags without a push time are never deleted by age.
      - When not set, the push time where the listing gives one, else the creation time.
      - Only with O(older_than) or O(keep_latest).
    type: str
    choices:
      - created
      - pushed
  shared_digest:
    description:
      - What to do with a chosen tag whose manifest is still needed by a tag that stays,
        because it points at the same manifest or at an index that lists it.
      - V(untag) deletes the tag and leaves the manifest for the other tag.
      - V(skip) leaves the tag and reports it in RV(kept_shared).
      - V(fail) fails the task before anything is changed.
    type: str
    choices:
      - untag
      - skip
      - fail
    default: untag
  delete_referrers:
    description:
      - Whether the referrers (signatures, SBOMs, attestations whose C(subject) it is) of a
        manifest that is really removed are deleted with it, and with them an emptied
        referrers fallback tag. Referrers of manifests that stay are never touched.
    type: bool
    default: false
  probe:
    description:
      - Whether to learn what the registry allows before planning, by deleting names that do
        not exist (a random digest, and a tag for registries that delete tags by name). Such
        probes change nothing anyone can see; RV(learnt) says what they answered.
      - With V(false), deletes are assumed enabled and deleting a tag by name unsupported
        (the behaviour of the CNCF distribution registry), for callers that know their registry
        or whose credentials may not probe.
    type: bool
    default: true
seealso:
  - module: ocireg.registry.registry_tag_info
  - module: ocireg.registry.registry_manifest_info
  - module: community.docker.docker_image_remove
  - name: GitLab cleanup policies
    description: The "keep N, delete older than" reading that O(keep_latest) and O(older_than) follow.
    link: https://docs.gitlab.com/ee/user/packages/container_registry/reduce_container_registry_storage.html
"""

EXAMPLES = r"""
- name: Delete two tags; other tags on the same images keep working
  ocireg.registry.registry_tag_delete:
    repository: registry.example.com/team/app
    tags:
      - 1.0-rc1
      - 1.0-rc2
  delegate_to: localhost
  register: deleted

- name: Show what went
  ansible.builtin.debug:
    msg: "deleted {{ deleted.deleted }}, already gone {{ deleted.not_found }}"

# Retention, the "never fewer than N" reading (GitLab's cleanup policy): of the tags that
# look like build numbers, keep those of the 3 newest images whatever their age, and of
# the others delete those older than 30 days. With builds b1 .. b6 made 10, 20, ... 60
# days ago, b1, b2 and b3 stay (newest three) and b4, b5 and b6 go. 'latest' matches no
# pattern, so it stays too.
- name: Clean up old build tags
  ocireg.registry.registry_tag_delete:
    repository: registry.example.com/team/app
    username: "{{ registry_user }}"
    password: "{{ registry_password }}"
    patterns:
      - 'b[0-9]+'
    keep_latest: 3
    older_than: 30d
  delegate_to: localhost
  register: cleanup

- name: Preview a cleanup of feature branch tags, leaving shared images alone
  ocireg.registry.registry_tag_delete:
    repository: registry.example.com/team/app
    patterns:
      - 'feature-.*'
    excludes:
      - 'feature-keep-.*'
    shared_digest: skip
    delete_referrers: true
  delegate_to: localhost
  check_mode: true
  diff: true
  register: preview

- name: Show the tags that would stay because other tags use their images
  ansible.builtin.debug:
    msg: "{{ preview.kept_shared | map(attribute='tag') | list }}"

- name: Show which pattern chose each tag, and why the others stay
  ansible.builtin.debug:
    msg: "{{ item.tag }}: {{ item.reason }} ({{ item.pattern }})"
  loop: "{{ preview.selection }}"

# Prefix matching: every 1.x tag except the 1.1 line, and never latest.
- name: Delete the old 1.x releases
  ocireg.registry.registry_tag_delete:
    repository: registry.example.com/team/worker
    patterns:
      - '1\.'
    excludes:
      - '1\.1'
      - latest
    match: prefix
  delegate_to: localhost
  register: old_releases
"""

RETURN = r"""
repository:
  description: The repository, fully qualified.
  returned: always
  type: str
  sample: 127.0.0.1:5000/team/app
deleted:
  description: The tags deleted (in check mode, that would be deleted), sorted.
  returned: always
  type: list
  elements: str
  sample: ["b4", "b5", "b6"]
kept_shared:
  description:
    - Chosen tags left in place because of O(shared_digest=skip), as their manifest is still
      needed by a tag that stays.
    - Not called C(skipped), a result key Ansible reserves (it would show the task as skipped).
  returned: always
  type: list
  elements: dict
  contains:
    tag:
      description: The tag.
      type: str
      sample: feature-x
    digest:
      description: The digest of its manifest.
      type: str
      sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
    reason:
      description: Which tags that stay need the manifest.
      type: str
      sample: its manifest is still needed by latest
selection:
  description:
    - With a selection (O(patterns), O(excludes), O(keep_latest), O(older_than)), every tag of the
      repository that is no referrers fallback tag, with whether it was chosen and why; in check
      mode it is the preview of what the real run chooses. Empty with O(tags).
  returned: always
  type: list
  elements: dict
  contains:
    tag:
      description: The tag.
      type: str
      sample: "1.0"
    selected:
      description: Whether the selection chose it for deletion.
      type: bool
      sample: true
    reason:
      description:
        - V(selected), or why it stays - V(matches no pattern), V(excluded), V(one of the N newest
          images), V(newer than the age limit), V(age unknown).
      type: str
      sample: excluded
    pattern:
      description: The pattern that selected it, or the exclude that protected it; V(null) when none did.
      type: str
      sample: 1\.1
not_found:
  description: Tags named in O(tags) that do not exist (already deleted), sorted.
  returned: always
  type: list
  elements: str
  sample: ["1.0-rc1"]
deleted_manifests:
  description:
    - The digests of the manifests removed with their last tag, sorted. A manifest that a
      tag that stays still uses is not among them.
  returned: always
  type: list
  elements: str
  sample: ["sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"]
deleted_referrers:
  description: With O(delete_referrers=true), the referrers deleted with their subject.
  returned: always
  type: list
  elements: dict
  contains:
    subject:
      description: The digest of the removed manifest the referrer referred to.
      type: str
      sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
    digest:
      description: The referrer's digest.
      type: str
      sample: sha256:0b4d1f3c9dd2d8a1a1b4c12a3b0b3d8ad6c2e6b0a3a5cb47df9a2d0d3d48e8e1
    artifact_type:
      description: The referrer's artifact type.
      type: str
      sample: application/vnd.dev.cosign.artifact.sig.v1+json
recovered:
  description:
    - Tags an interrupted earlier run (killed while a tag was moved to a placeholder manifest)
      had left on a placeholder, whose removal this task finished. Every run in a repository
      finishes them, whatever it was asked to delete. In check mode, what would be finished.
  returned: always
  type: list
  elements: str
  sample: [old-build]
not_done:
  description:
    - Planned steps that were not carried out, each with the reason, because execution
      re-checked them against the repository and their premise no longer held (the tag moved
      to another image, a tag pushed since the plan needs the image), or because the run
      stopped (an error, a signal) before them. Filled on failure too.
  returned: always
  type: list
  elements: dict
  contains:
    tag:
      description: The tag.
      type: str
      sample: b1
    digest:
      description: The digest the plan had for it.
      type: str
      sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
    reason:
      description: Why it was not done.
      type: str
      sample: b1 now points at sha256:0b4d..., not the planned sha256:6c3c...; left alone
stopped:
  description: Why the run stopped before its end (the error, or the signal), when it did.
  returned: when the run stopped early
  type: str
  sample: "RegistryError: DELETE manifest 127.0.0.1:5000/team/app@sha256:...: 500 UNKNOWN"
via:
  description:
    - For each tag in RV(deleted), the mechanism that deletes it (in check mode, that would)
      - V(oci-tag-delete), V(registry-delete-digest) or V(untag) through the registry's
      Registry HTTP API, or the name a plugin gives the registry's own API for it (for
      example V(ecr-batch-delete-image), or V(untag+github-api) where a tag is moved to a
      placeholder manifest that the registry's API then deletes).
  returned: always
  type: dict
  sample: {"b4": "registry-delete-digest", "b5": "untag"}
learnt:
  description:
    - How the plan learnt what the registry allows (the probes' answers, that probing was
      skipped with O(probe=false), or the registry-native API it deletes through).
  returned: always
  type: list
  elements: str
  sample: ["deletes are enabled: a DELETE of a random digest in team/app answered 404 MANIFEST_UNKNOWN"]
diff:
  description: The repository's tags before and after.
  returned: in diff mode
  type: dict
  contains:
    before:
      description: Before the task.
      type: dict
      sample: {"tags": ["b1", "b2", "latest"]}
    after:
      description: After the task.
      type: dict
      sample: {"tags": ["b2", "latest"]}
error_type:
  description:
    - When the task failed, the name of the ocireg error, for example C(AuthenticationError), C(DeniedError),
      C(UnsupportedError), C(TransportError) or C(InvalidSelectionError); C(InvalidOptionError) for an option
      value the module rejected itself.
  returned: failure
  type: str
  sample: DeniedError
error_code:
  description: When the task failed because of the registry's answer, the registry's first error code, else V(null).
  returned: failure
  type: str
  sample: DENIED
http_status:
  description: When the task failed because of the registry's answer, its HTTP status, else V(null).
  returned: failure
  type: int
  sample: 403
credential_source:
  description:
    - When the registry refused the credentials or asked for some (HTTP 401), which credential source
      answered for the registry, never the secret; V(null) when that could not be told.
  returned: when authentication failed
  type: dict
  contains:
    registry:
      description: The registry host.
      type: str
      sample: registry.example.com
    provider:
      description: The ocireg credential provider that answered, V(null) when none had credentials (anonymous).
      type: str
      sample: docker-config
    kind:
      description: The kind of credential, V(basic), V(identity-token), V(registry-token) or V(anonymous).
      type: str
      sample: basic
    username:
      description: The user name, when the credential has one.
      type: str
      sample: ci
    source:
      description: Where the provider found it, for example the docker C(config.json) path or V(the username and password options).
      type: str
      sample: /home/ci/.docker/config.json
    asked:
      description: The providers asked, in order.
      type: list
      elements: str
      sample: ["explicit", "environment", "docker-config", "containers-auth"]
"""

from ansible_collections.ocireg.registry.plugins.module_utils._module import (
    SELECTION_ARGUMENT_SPEC,
    SORT_ARGUMENT_SPEC,
    error_result,
    make_client,
    option_error,
    parse_reference,
    registry_module,
    sdk_errors,
    warn_unmatched,
)
from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    SharedDigestError,
    UnsupportedError,
)
from ansible_collections.ocireg.registry.plugins.module_utils._tags import (
    TagDeletion,
    list_tags,
    selection_report,
)

SELECTION = ["patterns", "excludes", "keep_latest", "older_than"]


def main():
    spec = dict(
        repository=dict(type="str", required=True, aliases=["name"]),
        tags=dict(type="list", elements="str"),
        keep_latest=dict(type="int"),
        older_than=dict(type="str"),
        age_from=dict(type="str", choices=["created", "pushed"]),
        shared_digest=dict(type="str", default="untag", choices=["untag", "skip", "fail"]),
        delete_referrers=dict(type="bool", default=False),
        probe=dict(type="bool", default=True),
    )
    spec.update(SELECTION_ARGUMENT_SPEC)
    spec.update(SORT_ARGUMENT_SPEC)
    module = registry_module(
        spec,
        mutually_exclusive=[["tags", option] for option in SELECTION + ["age_from"]],
        required_one_of=[["tags"] + SELECTION],
    )
    params = module.params
    if params["keep_latest"] is not None and params["keep_latest"] < 0:
        option_error(module, "keep_latest must be 0 or more, got %d" % params["keep_latest"])
    repo = parse_reference(module, params["repository"], "repository", want_tag_or_digest=False)
    result = dict(
        changed=False,
        repository=repo.repository,
        deleted=[],
        kept_shared=[],
        selection=[],
        not_found=[],
        deleted_manifests=[],
        deleted_referrers=[],
        recovered=[],
        not_done=[],
        via={},
        learnt=[],
    )
    with sdk_errors(module, result) as context:
        with make_client(module, repo, context) as client:
            tags = list_tags(client, repo)[1]
            job = TagDeletion(client, repo, tags, sort=params["sort"])
            if params["tags"] is not None:
                chosen = job.choose_explicit(params["tags"])
            else:
                selection = job.choose_selection(
                    params["patterns"], params["excludes"], params["keep_latest"], params["older_than"],
                    params["match"], age_from=params["age_from"],
                )
                warn_unmatched(module, selection)
                result["selection"] = selection_report(selection, params["sort"])
                chosen = selection.delete_tags
            error = job.plan(chosen, params["shared_digest"], params["delete_referrers"], params["probe"])
            if error is not None:  # deletes disabled, or shared_digest=fail: nothing changed
                if isinstance(error, SharedDigestError):
                    result.update(job.result())
                    result["deleted"] = []
                result.update(error_result(error))
                result["learnt"] = list(job.batch.learnt)  # how the refusal was learnt
                if isinstance(error, UnsupportedError):
                    result["error_code"] = result["error_code"] or "UNSUPPORTED"
                    result["msg"] += " (distribution: set REGISTRY_STORAGE_DELETE_ENABLED=true to allow deletes)"
                module.fail_json(**result)
            result.update(job.result())
            if module._diff:
                result["diff"] = job.diff()
            if not module.check_mode:
                job.execute(result)
                result.update(not_found=job.result()["not_found"])
            result["changed"] = bool(result["deleted"] or result["deleted_referrers"] or result["recovered"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
