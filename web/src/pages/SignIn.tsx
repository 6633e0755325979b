import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { ApiError } from '../../../src/api/client/client.js';
import { useAuth } from '../auth.js';
import { useI18n } from '../i18n.js';

/** Sign in with an API token (`suanwang admin tokens create`, or the admin token file of `up`). */
export function SignIn({ error }: { readonly error?: Error }) {
  const { t } = useI18n();
  const { signIn } = useAuth();
  const rejected = error instanceof ApiError && error.status === 401;
  return (
    <Card style={{ maxWidth: 480, margin: '48px auto' }}>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t('auth.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('auth.intro')}</Typography.Paragraph>
      {error ? <Alert role="alert" type="error" showIcon style={{ marginBottom: 16 }} title={rejected ? t('auth.rejected') : error.message} /> : null}
      <Form layout="vertical" onFinish={(v: { token: string }) => signIn(v.token.trim())} requiredMark={false}>
        <Form.Item label={t('auth.token')} name="token" rules={[{ required: true, whitespace: true, message: t('auth.tokenRequired') }]} extra={t('auth.tokenHelp')}>
          <Input.Password autoComplete="off" autoFocus />
        </Form.Item>
        <Button type="primary" htmlType="submit" block>{t('auth.signIn')}</Button>
      </Form>
    </Card>
  );
}
