import { describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../src/main/mail/smtp';

describe('classifySmtpError', () => {
  it.each([
    [{ code: 'ECONNECTION' }, { kind: 'unreachable', message: 'Mail server not reachable' }],
    [{ code: 'ETIMEDOUT' }, { kind: 'unreachable', message: 'Mail server not reachable' }],
    [{ code: 'EDNS' }, { kind: 'unreachable', message: 'Mail server not reachable' }],
    [
      { code: 'EAUTH', responseCode: 535 },
      { kind: 'refused', message: 'Mail server refused the password' },
    ],
    [
      { code: 'EAUTH', responseCode: 454, response: '454 4.7.0 Try later' },
      { kind: 'later', message: 'Mail server asked to try later (it said: 454 4.7.0 Try later)' },
    ],
    [{ code: 'ETLS' }, { kind: 'refused', message: 'Mail server could not start a secure connection: check the security setting' }],
    [
      { code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user' },
      { kind: 'refused', message: 'Mail server refused the sender or recipients (it said: 550 5.1.1 No such user)' },
    ],
    [
      { code: 'EMESSAGE', responseCode: 552, response: '552 Too big' },
      { kind: 'refused', message: 'Mail server refused the mail (it said: 552 Too big)' },
    ],
    [
      { code: 'EMESSAGE', responseCode: 451, response: '451 Greylisted' },
      { kind: 'later', message: 'Mail server asked to try later (it said: 451 Greylisted)' },
    ],
    [new Error('Something odd'), { kind: 'later', message: 'Mail could not be sent: Something odd' }],
  ])('%j → %j', (error, expected) => {
    expect(classifySmtpError(error)).toEqual(expected);
  });
});
