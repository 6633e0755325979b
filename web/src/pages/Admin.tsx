import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Input, Popconfirm, Space, Table, Tabs, Tag, Typography } from 'antd';
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
  return (
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
  );
}

function Tokens() {
  const { t, lang } = useI18n();
  const client = useClient();
  const queries = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => client.tokens() });
  const revoke = useMutation({ mutationFn: (id: string) => client.revokeToken(id), onSuccess: () => queries.invalidateQueries({ queryKey: ['tokens'] }) });
  return (
    <Card size="small">
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
