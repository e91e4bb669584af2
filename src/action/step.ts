import * as core from '@actions/core';

/**
 * One entry point for `runs.main` and `runs.post`: the main step leaves a mark in the state, so the
 * post step knows itself. Each is a chunk of dist/: the post step, when nothing is paused, loads
 * nothing more.
 */
export async function step(): Promise<void> {
  if (core.getState('isPost') === 'true') {
    await (await import('./post.js')).post();
  } else {
    core.saveState('isPost', 'true');
    await (await import('./main.js')).run();
  }
}
