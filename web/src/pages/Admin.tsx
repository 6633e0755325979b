import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Form, Input, InputNumber, Popconfirm, Select, Space, Table, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import type { ReviewQueue } from '../../../src/api/client/schemas.js';
import { useClient } from '../auth.js';
import { when } from '../format.js';
import { useI18n } from '../i18n.js';

/** Admins: the review queue (approve / reject with a note), centers, users and their tokens. */
export default function Admin() {
  const { t } = useI18n();
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>{t('admin.title')}</Typography.Title>
      <Tabs
        items={[
          { key: 'reviews', label: t('admin.reviews'), children: <Reviews /> },
          { key: 'centers', label: t('admin.centers'), children: <Centers /> },
          { key: 'users', label: t('admin.users'), children: <Users /> },
          { key: 'tokens', label: t('admin.tokens'), children: <Tokens /> },
        ]}
      />
    </Space>
  );
}

function Reviews() {
  const { t, lang } = useI18n();
  const client = useClient();
  const queries = useQueryClient();
  const [notes, setNotes] = useState<Record<string, string>>({});
  const queue = useQuery({ queryKey: ['reviews', 'in-review'], queryFn: () => client.request<ReviewQueue>('GET', '/v1/reviews?status=in-review') });
  const act = useMutation({
    mutationFn: (a: { product: string; version: string; action: 'approve' | 'reject' }) => client.review(a.product, a.version, a.action, notes[`${a.product}@${a.version}`]),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['reviews'] }),
  });
  return (
    <>
      {act.isError ? <Alert type="error" showIcon title={act.error.message} style={{ marginBottom: 8 }} /> : null}
      <Table
        size="small"
        rowKey={(r) => `${r.product}@${r.version}`}
        loading={queue.isPending}
        pagination={false}
        scroll={{ x: true }}
        locale={{ emptyText: t('admin.noReviews') }}
        dataSource={queue.data?.items ?? []}
        columns={[
          { title: t('product.name'), render: (_, r) => <Link to={`/store/${encodeURIComponent(r.product)}`}>{r.product}@{r.version}</Link> },
          { title: t('product.provider'), dataIndex: 'provider' },
          { title: t('publish.created'), render: (_, r) => when(r.createdAt, lang) },
          {
            title: t('admin.decision'),
            render: (_, r) => {
              const key = `${r.product}@${r.version}`;
              return (
                <Space wrap>
                  <Input size="small" aria-label={t('admin.note', { key })} placeholder={t('admin.notePlaceholder')} value={notes[key] ?? ''} onChange={(e) => setNotes({ ...notes, [key]: e.target.value })} style={{ width: 180 }} />
                  <Button size="small" type="primary" onClick={() => act.mutate({ product: r.product, version: r.version, action: 'approve' })}>{t('admin.approve')}</Button>
                  <Button size="small" danger onClick={() => act.mutate({ product: r.product, version: r.version, action: 'reject' })}>{t('admin.reject')}</Button>
                </Space>
              );
            },
          },
        ]}
      />
    </>
  );
}

function Centers() {
  const { t, lang } = useI18n();
  const client = useClient();
  const centers = useQuery({ queryKey: ['centers'], queryFn: () => client.centers(), refetchInterval: 5_000 });
  return (
    <Table
      size="small"
      rowKey="name"
      loading={centers.isPending}
      pagination={false}
      scroll={{ x: true }}
      dataSource={centers.data?.items ?? []}
      columns={[
        { title: t('network.center'), dataIndex: 'name' },
        { title: t('network.region'), dataIndex: 'region' },
        { title: t('network.state'), render: (_, c) => <Tag color={c.state === 'online' ? 'green' : c.state === 'draining' ? 'orange' : 'red'}>{t(`network.state.${c.state}`)}</Tag> },
        { title: t('admin.connector'), render: (_, c) => c.connector ?? '—' },
        { title: t('admin.running'), dataIndex: 'runningJobs' },
        { title: t('network.heartbeat'), render: (_, c) => when(c.lastHeartbeatAt, lang) },
      ]}
    />
  );
}

function Users() {
  const { t, lang } = useI18n();
  const client = useClient();
  const users = useQuery({ queryKey: ['users'], queryFn: () => client.users() });
  const queries = useQueryClient();
  const create = useMutation({
    mutationFn: (u: { org: string; name: string; role: string }) => client.createUser(u),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['users'] }),
  });
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
    <Card size="small" title={t('admin.newUser')}>
      <Form layout="inline" onFinish={(v: { org: string; name: string; role: string }) => create.mutate(v)} initialValues={{ role: 'user' }}>
        <Form.Item label={t('admin.org')} name="org" rules={[{ required: true, message: t('admin.orgRequired') }]}><Input style={{ width: 140 }} /></Form.Item>
        <Form.Item label={t('admin.user')} name="name" rules={[{ required: true, message: t('admin.userRequired') }]}><Input style={{ width: 140 }} /></Form.Item>
        <Form.Item label={t('admin.role')} name="role">
          <Select style={{ width: 140 }} options={['user', 'provider', 'operator', 'admin'].map((r) => ({ value: r, label: t(`role.${r}`) }))} />
        </Form.Item>
        <Button htmlType="submit" type="primary" loading={create.isPending}>{t('admin.create')}</Button>
      </Form>
      {create.isError ? <Alert type="error" showIcon title={create.error.message} style={{ marginTop: 8 }} /> : null}
      {create.data ? <ShownOnce token={create.data.token} /> : null}
    </Card>
    <Table
      size="small"
      rowKey="id"
      loading={users.isPending}
      pagination={{ pageSize: 50, hideOnSinglePage: true }}
      scroll={{ x: true }}
      dataSource={users.data?.items ?? []}
      columns={[
        { title: t('admin.user'), dataIndex: 'name' },
        { title: t('admin.org'), dataIndex: 'org' },
        { title: t('admin.role'), render: (_, u) => <Tag>{t(`role.${u.role}`)}</Tag> },
        { title: t('publish.created'), render: (_, u) => when(u.createdAt, lang) },
      ]}
    />
    </Space>
  );
}

/** A new token, shown once with a copy button: the server keeps only its hash. */
function ShownOnce({ token }: { readonly token: string }) {
  const { t } = useI18n();
  return (
    <Alert
      type="success"
      showIcon
      style={{ marginTop: 8 }}
      title={t('admin.tokenOnce')}
      description={<Typography.Text code copyable={{ text: token }} data-testid="new-token">{token}</Typography.Text>}
    />
  );
}

function Tokens() {
  const { t, lang } = useI18n();
  const client = useClient();
  const queries = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => client.tokens() });
  const revoke = useMutation({ mutationFn: (id: string) => client.revokeToken(id), onSuccess: () => queries.invalidateQueries({ queryKey: ['tokens'] }) });
  const create = useMutation({
    mutationFn: (v: { user: string; label?: string; days?: number | null }) =>
      client.createToken({ user: v.user, ...(v.label ? { label: v.label } : {}), ...(v.days ? { expiresInSeconds: Math.round(v.days * 86_400) } : {}) }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['tokens'] }),
  });
  return (
    <Card size="small">
      <Form layout="inline" onFinish={(v: { user: string; label?: string; days?: number | null }) => create.mutate(v)} style={{ marginBottom: 12 }}>
        <Form.Item label={t('admin.user')} name="user" rules={[{ required: true, message: t('admin.userRequired') }]}><Input style={{ width: 140 }} /></Form.Item>
        <Form.Item label={t('admin.label')} name="label"><Input style={{ width: 140 }} /></Form.Item>
        <Form.Item label={t('admin.days')} name="days"><InputNumber min={1} max={3650} precision={0} style={{ width: 100 }} /></Form.Item>
        <Button htmlType="submit" type="primary" loading={create.isPending}>{t('admin.newToken')}</Button>
      </Form>
      {create.isError ? <Alert type="error" showIcon title={create.error.message} style={{ marginBottom: 8 }} /> : null}
      {create.data ? <ShownOnce token={create.data.token} /> : null}
      {revoke.isError ? <Alert type="error" showIcon title={revoke.error.message} style={{ marginBottom: 8 }} /> : null}
      <Table
        size="small"
        rowKey="id"
        loading={tokens.isPending}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        scroll={{ x: true }}
        dataSource={tokens.data?.items ?? []}
        columns={[
          { title: t('admin.user'), dataIndex: 'user' },
          { title: t('admin.label'), render: (_, k) => k.label ?? '—' },
          { title: t('admin.expires'), render: (_, k) => when(k.expiresAt, lang) },
          { title: t('admin.lastUsed'), render: (_, k) => when(k.lastUsedAt, lang) },
          {
            title: t('admin.revoke'),
            render: (_, k) =>
              k.revokedAt ? (
                <Tag>{t('admin.revoked')}</Tag>
              ) : (
                <Popconfirm title={t('admin.revokeConfirm')} okText={t('admin.revoke')} cancelText={t('common.no')} onConfirm={() => revoke.mutate(k.id)}>
                  <Button size="small" danger>{t('admin.revoke')}</Button>
                </Popconfirm>
              ),
          },
        ]}
      />
    </Card>
  );
}
