import { describe, expect, it } from '@jest/globals';
import { ManifestError, parseManifest, renderManifest, updateManifest } from '../../src/repo/manifest.js';
import { bumpNodeClassFile } from '../../src/repo/node-class-file.js';

/** The manifest's nodeClasses map (docs/manifest.md) and the bump of an EC2NodeClass's own file (docs/karpenter.md). */
const where = { cluster: 'kp', region: 'us-east-1' };

const manifest = `# our fleet
cluster: kp
region: us-east-1
nodegroups:
  system:
    kubernetesVersion: "1.35"
    releaseVersion: 1.35.6-20260714
nodeClasses:
  default: # the general pool
    alias: al2023@v20260505
    file: deploy/karpenter/default.yaml
  secure:
    alias: bottlerocket@v1.34.0
`;

function problem(text: string, classes?: string[]): string {
  try {
    parseManifest('m.yaml', text, where, undefined, {}, classes);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as Error).message;
  }
  throw new Error('no error');
}

describe('the nodeClasses map of a cluster manifest', () => {
  it('reads each node class pin with its file and line', () => {
    const m = parseManifest('m.yaml', manifest, where, ['system'], {}, ['default', 'secure', 'batch']);
    expect(m.nodeClasses).toEqual({
      default: { alias: 'al2023@v20260505', file: 'deploy/karpenter/default.yaml', line: 10 },
      secure: { alias: 'bottlerocket@v1.34.0', line: 13 },
    });
    expect(m.nodegroups.system?.releaseVersion).toBe('1.35.6-20260714');
  });

  it('accepts a manifest of node classes alone', () => {
    const m = parseManifest('m.yaml', 'cluster: kp\nregion: us-east-1\nnodeClasses:\n  default:\n    alias: al2023@v20260505\n', where);
    expect(m).toMatchObject({ nodegroups: {}, nodeClasses: { default: { alias: 'al2023@v20260505' } } });
  });

  it("refuses @latest with Karpenter's own warning, naming the line", () => {
    const text = manifest.replace('al2023@v20260505', 'al2023@latest');
    expect(problem(text)).toMatch(/^m\.yaml:10: nodeClasses\.default\.alias: "al2023@latest" cannot be pinned: Karpenter heavily recommends against/);
  });

  it('refuses aliases that cannot be pinned, and malformed versions, with the accepted form', () => {
    expect(problem(manifest.replace('al2023@v20260505', 'windows2022@latest'))).toContain('m.yaml:10:');
    expect(problem(manifest.replace('al2023@v20260505', 'al2@v20240807'))).toMatch(
      /m\.yaml:10: .*"al2@v20240807" cannot be pinned \(Amazon Linux 2 is no longer patched\): expected family@version, a versioned alias of al2023/,
    );
    expect(problem(manifest.replace('al2023@v20260505', 'al2023@20260505'))).toBe(
      'm.yaml:10: nodeClasses.default.alias: "al2023@20260505": 20260505 is not a al2023 version (expected the form al2023@v20250505)',
    );
    expect(problem(manifest.replace('bottlerocket@v1.34.0', 'bottlerocket'))).toContain('m.yaml:13: nodeClasses.secure.alias: "bottlerocket" is not an alias');
  });

  it('refuses unknown keys, a missing alias, a file outside the repository and a class the cluster does not have', () => {
    expect(problem(manifest.replace('    file: deploy', '    path: deploy'))).toBe(
      'm.yaml:11: unknown key "path" in node class default (expected alias, file)',
    );
    expect(problem(manifest.replace('    alias: bottlerocket@v1.34.0\n', '    file: x.yaml\n'))).toBe(
      'm.yaml:12: nodeClasses.secure: no alias (expected alias: al2023@v20250505)',
    );
    expect(problem(manifest.replace('deploy/karpenter/default.yaml', '../other/default.yaml'))).toContain('m.yaml:11: nodeClasses.default.file:');
    expect(problem(manifest, ['default'])).toBe('m.yaml:12: node class "secure" is not an EC2NodeClass of the cluster (it has default)');
  });

  it('renders a first manifest with its node classes, which reads back', () => {
    const text = renderManifest({
      ...where,
      nodegroups: { system: { kubernetesVersion: '1.35', releaseVersion: '1.35.6-20260714' } },
      nodeClasses: { secure: { alias: 'bottlerocket@v1.34.0' }, default: { alias: 'al2023@v20260625', file: 'deploy/default.yaml' } },
    });
    expect(text).toContain(
      'nodeClasses:\n  default:\n    alias: al2023@v20260625\n    file: deploy/default.yaml\n  secure:\n    alias: bottlerocket@v1.34.0\n',
    );
    expect(parseManifest('m.yaml', text, where).nodeClasses?.default?.alias).toBe('al2023@v20260625');
  });

  it("moves a pin keeping comments, the file and a person's own lines", () => {
    const next = updateManifest(manifest, {}, { default: 'al2023@v20260625' });
    // the yaml library writes a key's trailing comment on the line below it: kept, not lost
    expect(next).toBe(
      manifest.replace('  default: # the general pool\n    alias: al2023@v20260505', '  default:\n    # the general pool\n    alias: al2023@v20260625'),
    );
    // a class not pinned yet gets an entry
    expect(updateManifest(manifest, {}, { batch: 'al2023@v20260625' })).toContain('  batch:\n    alias: al2023@v20260625\n');
  });
});

const classFile = `# Karpenter's node classes for kp
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: general
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: gpu
spec:
  amiSelectorTerms:
    - alias: al2023@v20260505
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: default
spec:
  role: KarpenterNodeRole   # keep
  amiSelectorTerms:
    - alias: "al2023@v20260505"  # pinned, see the runbook
  subnetSelectorTerms:
    - tags: {karpenter.sh/discovery: kp}
`;

describe('the bump of an EC2NodeClass file', () => {
  // A Helm chart's values, and a Kustomize JSON 6902 patch: the pin plainly visible, once.
  const values = `karpenter:\n  nodeClasses:\n    default:\n      amiSelectorTerms:\n        - alias: al2023@v20260505 # bumped by eks-ami-drift\n`;
  const patch = `- op: replace\n  path: /spec/amiSelectorTerms/0/alias\n  value: "al2023@v20260505"\n`;

  it('bumps a file without the EC2NodeClass (Helm values, a Kustomize patch) where the pin is its one scalar equal to it', () => {
    expect(bumpNodeClassFile('values.yaml', values, 'default', 'al2023@v20260505', 'al2023@v20260625')).toEqual({
      next: values.replace('al2023@v20260505 #', 'al2023@v20260625 #'),
    });
    expect(bumpNodeClassFile('patch.yaml', patch, 'default', 'al2023@v20260505', 'al2023@v20260625')).toEqual({
      next: patch.replace('"al2023@v20260505"', '"al2023@v20260625"'),
    });
  });

  it('leaves such a file alone when the pin is not in it, or more than once', () => {
    expect(bumpNodeClassFile('values.yaml', values.replace('v20260505', 'v20260601'), 'default', 'al2023@v20260505', 'al2023@v20260625')).toEqual({
      problem: 'values.yaml has no document kind: EC2NodeClass named default, and al2023@v20260505 appears nowhere in it: not changed',
    });
    const twice = `${values}        - alias: al2023@v20260505\n`;
    expect(bumpNodeClassFile('values.yaml', twice, 'default', 'al2023@v20260505', 'al2023@v20260625')).toEqual({
      problem:
        'values.yaml has no document kind: EC2NodeClass named default, ' +
        "and al2023@v20260505 appears 2 times in it (which is default's is not plain): not changed",
    });
  });

  it('changes only the alias of the named class, byte for byte elsewhere', () => {
    const bump = bumpNodeClassFile('f.yaml', classFile, 'default', 'al2023@v20260505', 'al2023@v20260625');
    expect(bump).toEqual({ next: classFile.replace('"al2023@v20260505"  # pinned', '"al2023@v20260625"  # pinned') });
  });

  it('leaves a file already on the target as it is', () => {
    const on = classFile.replace('"al2023@v20260505"', '"al2023@v20260625"');
    expect(bumpNodeClassFile('f.yaml', on, 'default', 'al2023@v20260505', 'al2023@v20260625')).toEqual({ next: on });
  });

  it('does not overwrite an alias a person moved, a missing document or a class without an alias', () => {
    const moved = classFile.replace('"al2023@v20260505"', 'al2023@v20260601');
    expect(bumpNodeClassFile('f.yaml', moved, 'default', 'al2023@v20260505', 'al2023@v20260625')).toEqual({
      problem:
        "f.yaml: EC2NodeClass default names al2023@v20260601, not al2023@v20260505 as the cluster's manifest pins: a person moved it, so it is left as it is",
    });
    expect(bumpNodeClassFile('f.yaml', classFile, 'batch', 'al2023@v20260505', 'al2023@v20260625')).toEqual({
      problem: 'f.yaml has no document kind: EC2NodeClass named batch: not changed',
    });
    const ids = classFile.replace('- alias: "al2023@v20260505"', '- id: ami-0123456789abcdef0');
    expect(bumpNodeClassFile('f.yaml', ids, 'default', 'al2023@v20260505', 'al2023@v20260625')).toEqual({
      problem: 'f.yaml: EC2NodeClass default has no alias in spec.amiSelectorTerms: not changed',
    });
  });
});
