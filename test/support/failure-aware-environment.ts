import NodeEnvironment from 'jest-environment-node';

/** The flag a test file reads (through `currentTestFailed()`) to know whether the running test has failed. */
export const FAILED_FLAG = '__wagwCurrentTestFailed';

/**
 * Jest's node environment, plus a flag set when the running test (or one of its hooks) fails, so a
 * harness's teardown can print what the apps logged about a failure. CI keeps only the test output.
 */
export default class FailureAwareEnvironment extends NodeEnvironment {
  handleTestEvent(event: { name: string }): void {
    if (event.name === 'test_start') this.global[FAILED_FLAG] = false;
    else if (event.name === 'test_fn_failure' || event.name === 'hook_failure') this.global[FAILED_FLAG] = true;
  }
}
