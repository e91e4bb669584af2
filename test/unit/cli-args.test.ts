import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { actionInputs, parseCommandLine, UsageError } from '../../src/cli/args.js';
import { parseManifest } from '../../src/repo/manifest.js';

/*
 * The command line's words as people and workflows write them, and the text it parses as Windows
 * writes it (\r\n): the command line reads action.yml and the manifests, and nothing of a runner's.
 */
const ACTION_YML = readFileSync(new URL('../../action.yml', import.meta.url), 'utf8');
const inputs = actionInputs(ACTION_YML);
const parse = (...argv: string[]) => parseCommandLine(argv, inputs);

describe('the command line', () => {
  it.each([
    [['--fail-on-drift'], 'true'],
    [['--no-fail-on-drift'], 'false'],
    [['--fail-on-drift', 'true'], 'true'],
    [['--fail-on-drift', 'false'], 'false'],
    [['--fail-on-drift=true'], 'true'],
    [['--fail-on-drift=false'], 'false'],
    [['--fail-on-drift', 'True'], 'true'],
    [['--fail-on-drift=FALSE'], 'false'],
  ])('reads the boolean %j as %s', (argv, value) => {
    const parsed = parse('check', '--regions', 'us-east-1', ...argv);
    expect(parsed.inputs.get('fail-on-drift')).toBe(value);
    expect(parsed.command).toBe('check');
  });

  it('takes the last of a repeated boolean, and leaves a word that is not true or false as a positional (an error)', () => {
    expect(parse('--fail-on-drift', 'true', '--no-fail-on-drift').inputs.get('fail-on-drift')).toBe('false');
    expect(() => parse('check', '--fail-on-drift', 'yes')).toThrow(new UsageError('unexpected "yes": expected one of check, upgrade, restore'));
    expect(() => parse('--fail-on-drift=yes')).toThrow(new UsageError('Option \'--fail-on-drift\' is true or false, not "yes"'));
  });

  it('passes strings as given, and the command line options apart from the inputs', () => {
    const parsed = parse('upgrade', '--regions', 'us-east-1,eu-west-1', '--json', '--output-file', 'out.json', '--profile', 'platform');
    expect(parsed).toEqual({
      command: 'upgrade',
      help: false,
      json: true,
      outputFile: 'out.json',
      profile: 'platform',
      inputs: new Map([['regions', 'us-east-1,eu-west-1']]),
    });
  });

  it('refuses an unknown flag and an unknown command with a usage error', () => {
    expect(() => parse('--region', 'us-east-1')).toThrow(UsageError);
    expect(() => parse('deploy')).toThrow(new UsageError('"deploy" is not a command: expected one of check, upgrade, restore'));
  });
});

describe('text with Windows line ends', () => {
  it('reads action.yml the same with \\r\\n', () => {
    expect(actionInputs(ACTION_YML.replace(/\n/g, '\r\n'))).toEqual(inputs);
    expect(inputs.find((i) => i.name === 'fail-on-drift')).toMatchObject({ boolean: true, default: 'false' });
  });

  it('reads a manifest the same with \\r\\n, line numbers included', () => {
    const text = [
      'cluster: prod',
      'region: us-east-1',
      'nodegroups:',
      '  general:',
      '    kubernetesVersion: "1.33"',
      '    releaseVersion: 1.33.13-20260714',
      '',
    ].join('\r\n');
    const manifest = parseManifest('prod.yaml', text, { cluster: 'prod', region: 'us-east-1' }, ['general']);
    expect(manifest.nodegroups.general).toEqual({ kubernetesVersion: '1.33', releaseVersion: '1.33.13-20260714', line: 6 });
    expect(() => parseManifest('prod.yaml', text.replace('1.33.13-20260714', 'latest'), { cluster: 'prod', region: 'us-east-1' }, ['general'])).toThrow(
      /^prod\.yaml:6: /,
    );
  });
});

describe('a manifest pins each node group by its kind', () => {
  const text = (fields: string[]) =>
    ['cluster: prod', 'region: us-east-1', 'nodegroups:', '  workers:', '    kubernetesVersion: "1.33"', ...fields, ''].join('\n');
  const expectProd = { cluster: 'prod', region: 'us-east-1' };

  it('a self-managed group (its AMI type read from its image, pinned by image id) takes imageId and refuses releaseVersion', () => {
    const kinds = { workers: { amiType: 'AL2023_x86_64_STANDARD', pinKey: 'imageId' as const } };
    const m = parseManifest('prod.yaml', text(['    imageId: ami-0123456789abcdef0']), expectProd, ['workers'], kinds);
    expect(m.nodegroups.workers).toEqual({ kubernetesVersion: '1.33', imageId: 'ami-0123456789abcdef0', line: 6 });
    expect(() => parseManifest('prod.yaml', text(['    releaseVersion: 1.33.13-20260714']), expectProd, ['workers'], kinds)).toThrow(
      'prod.yaml:6: workers: its AMI is named by its launch template: pin it with imageId, not releaseVersion',
    );
  });

  it('a managed node group of the same AMI type is pinned by release and refuses imageId', () => {
    const kinds = { workers: { amiType: 'AL2023_x86_64_STANDARD', pinKey: 'releaseVersion' as const } };
    expect(() => parseManifest('prod.yaml', text(['    imageId: ami-0123456789abcdef0']), expectProd, ['workers'], kinds)).toThrow(
      'prod.yaml:6: workers: imageId is only for a node group whose launch template names its AMI (CUSTOM or self-managed); ' +
        'workers is AL2023_x86_64_STANDARD: pin releaseVersion',
    );
  });

  it('a CUSTOM node group still names CUSTOM in the message', () => {
    const kinds = { workers: { amiType: 'CUSTOM', pinKey: 'imageId' as const } };
    expect(() => parseManifest('prod.yaml', text(['    releaseVersion: 1.33.13-20260714']), expectProd, ['workers'], kinds)).toThrow(
      'prod.yaml:6: workers: its AMI is named by its launch template (CUSTOM): pin it with imageId, not releaseVersion',
    );
  });
});
