import { useQuery } from '@tanstack/react-query';
import { Alert, Card, Checkbox, Col, Empty, Input, List, Row, Select, Space, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useClient } from '../auth.js';
import { useI18n } from '../i18n.js';
import type { MessageKey } from '../messages.js';

const FACETS = ['category', 'family', 'provider'] as const;
type Facet = (typeof FACETS)[number];

/** The store: full-text search with the API's facets (category, accelerator family, provider). */
export default function Store() {
  const { t } = useI18n();
  const client = useClient();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const sort = params.get('sort') ?? 'relevance';
  const chosen = (f: Facet) => (params.get(f) ?? '').split(',').filter(Boolean);
  const [text, setText] = useState(q);
  const search = useQuery({
    queryKey: ['products', params.toString()],
    queryFn: () => client.searchProducts({ q, sort, limit: 50, category: params.get('category') ?? undefined, family: params.get('family') ?? undefined, provider: params.get('provider') ?? undefined }),
  });
  const update = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next);
  };
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>{t('store.title')}</Typography.Title>
      <Space.Compact style={{ width: '100%' }}>
        <Input.Search
          aria-label={t('store.search')}
          placeholder={t('store.searchPlaceholder')}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onSearch={(v) => update('q', v.trim())}
          enterButton={t('store.searchButton')}
          allowClear
        />
      </Space.Compact>
      <Row gutter={[16, 16]}>
        <Col xs={24} md={6}>
          <Card size="small" title={t('store.filters')}>
            <Space orientation="vertical" style={{ width: '100%' }}>
              <label>
                <Typography.Text strong>{t('store.sort')}</Typography.Text>
                <Select
                  aria-label={t('store.sort')}
                  style={{ width: '100%' }}
                  value={sort}
                  onChange={(v) => update('sort', v)}
                  options={(['relevance', 'popularity', 'newest'] as const).map((s) => ({ value: s, label: t(`store.sort.${s}`) }))}
                />
              </label>
              {FACETS.map((f) => {
                const counts = search.data?.facets[f] ?? {};
                const names = Object.keys(counts).sort();
                return (
                  <fieldset key={f} style={{ border: 0, padding: 0, margin: 0 }}>
                    <legend><Typography.Text strong>{t(`store.facet.${f}`)}</Typography.Text></legend>
                    <Checkbox.Group
                      style={{ display: 'flex', flexDirection: 'column' }}
                      value={chosen(f)}
                      onChange={(v) => update(f, (v as string[]).join(','))}
                      options={[...new Set([...names, ...chosen(f)])].map((n) => ({ value: n, label: `${f === 'category' ? categoryLabel(t, n) : n} (${counts[n] ?? 0})` }))}
                    />
                  </fieldset>
                );
              })}
            </Space>
          </Card>
        </Col>
        <Col xs={24} md={18}>
          {search.isError ? <Alert type="error" showIcon title={search.error.message} /> : null}
          <List
            aria-label={t('store.results')}
            loading={search.isPending}
            header={search.data ? <span data-testid="store-total">{t('store.total', { n: search.data.total })}</span> : null}
            locale={{ emptyText: <Empty description={t('store.none')} /> }}
            dataSource={search.data?.items ?? []}
            renderItem={(p) => (
              <List.Item key={p.name}>
                <List.Item.Meta
                  title={<Link to={`/store/${encodeURIComponent(p.name)}`}>{p.title}</Link>}
                  description={
                    <Space orientation="vertical" size={4}>
                      <span>{p.summary}</span>
                      <Space wrap size={4}>
                        <Tag color="geekblue">{categoryLabel(t, p.category)}</Tag>
                        {p.families.map((f) => <Tag key={f}>{f}</Tag>)}
                        <Typography.Text type="secondary">{t('store.byProvider', { provider: p.provider, n: p.launches })}</Typography.Text>
                      </Space>
                    </Space>
                  }
                />
              </List.Item>
            )}
          />
        </Col>
      </Row>
    </Space>
  );
}

/** A product category in the reader's language (unknown ones as they are). */
export function categoryLabel(t: (k: MessageKey) => string, category: string): string {
  const key = `category.${category}` as MessageKey;
  const label = t(key);
  return label === key ? category : label;
}
