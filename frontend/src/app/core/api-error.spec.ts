import { describe, expect, it } from 'vitest';
import { errorMessage } from './api-error';

describe('API errors for the user', () => {
  it('says the first field message of the error envelope', () => {
    const failure = { error: { error: { fields: { non_field_errors: ['no analysed segment covers that moment'] } } } };
    expect(errorMessage(failure, 'failed')).toBe('no analysed segment covers that moment');
  });

  it('falls back when there is none', () => {
    expect(errorMessage(new Error('offline'), 'failed')).toBe('failed');
  });
});
