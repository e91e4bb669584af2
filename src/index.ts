import * as core from '@actions/core';
import { run } from './main.js';
import { post } from './post.js';

// One entry point for `runs.main` and `runs.post`: the main step leaves a mark in the state.
if (core.getState('isPost') === 'true') {
  await post();
} else {
  core.saveState('isPost', 'true');
  await run();
}
