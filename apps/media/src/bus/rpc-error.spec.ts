import { RpcException } from '@nestjs/microservices';
import { ContractViolationError, DeadlineExceededError } from '@wagw/contracts';
import { silentLogger } from '@wagw/logging';
import { toRpcException } from './rpc-error';

describe('toRpcException', () => {
  it('keeps the code and message of typed errors', () => {
    expect(toRpcException(new DeadlineExceededError('p', 1), silentLogger(), 'p').getError()).toEqual({
      code: 'DEADLINE_EXCEEDED',
      message: expect.stringContaining('passed its deadline'),
    });
    expect(toRpcException(new ContractViolationError('p', 'legId: Required'), silentLogger(), 'p').getError()).toMatchObject({ code: 'CONTRACT_VIOLATION' });
  });

  it('hides the details of unexpected errors', () => {
    expect(toRpcException(new TypeError('x is undefined'), silentLogger(), 'p').getError()).toEqual({ code: 'INTERNAL', message: 'internal error in the media app' });
  });

  it('passes an RpcException through', () => {
    const e = new RpcException({ code: 'X', message: 'y' });
    expect(toRpcException(e, silentLogger(), 'p')).toBe(e);
  });
});
