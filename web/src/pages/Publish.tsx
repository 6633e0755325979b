import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Checkbox, Input, Space, Table, Tag, Typography } from 'antd';
import { useDeferredValue, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import type { ReviewQueue } from '../../../src/api/client/schemas.js';
import { parseManifest, type ManifestError } from '../../../src/catalog/validate-manifest.js';
import { useClient } from '../auth.js';
import { when } from '../format.js';
import { useI18n } from '../i18n.js';

const EXAMPLE = `name: hello-app
title: Hello app
summary: Prints a greeting; a first manifest to edit.
category: software
licence: Apache-2.0
version: 1.0.0
app:
  parameters:
    properties:
      who: { type: string, title: Who, default: world, maxLength: 64 }
  command:
    cpu: [python3, -c, "print('hello, {{who}}')"]
  resources:
    defaults: { coresPerNode: 1, walltimeSeconds: 60 }
`;

/**
 * Providers: write or paste a manifest; it is checked as you type by the server's own validator
 * (src/catalog/validate-manifest.ts), each error shown under its line with the column marked; then
 * publish (for review, or as a draft). Below: your versions and their review status.
 */
export default function Publish() {
  const { t, lang } = useI18n();
  const client = useClient();
  const queries = useQueryClient();
  const [text, setText] = useState(EXAMPLE);
  const [draft, setDraft] = useState(false);
  const area = useRef<HTMLTextAreaElement | null>(null);
  const deferred = useDeferredValue(text);
  const checked = useMemo(() => parseManifest(deferred), [deferred]);
  const errors = checked.ok ? [] : checked.errors;
  const publish = useMutation({
    mutationFn: () => client.publish(text, draft),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['reviews'] }),
  });
  const mine = useQuery({
    queryKey: ['reviews', 'mine'],
    queryFn: async () => {
      const all = await Promise.all((['draft', 'in-review', 'listed', 'delisted'] as const).map((s) => client.request<ReviewQueue>('GET', `/v1/reviews?status=${s}`)));
      return all.flatMap((r) => r.items);
    },
  });
  const goTo = (e: ManifestError) => {
    const el = area.current;
    if (!el) return;
    const lines = text.split('\n');
    const offset = lines.slice(0, e.line - 1).reduce((n, l) => n + l.length + 1, 0) + e.column - 1;
    el.focus();
    el.setSelectionRange(offset, offset + Math.max(1, (lines[e.line - 1]?.length ?? 0) - e.column + 1));
  };
  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>{t('publish.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('publish.intro')}</Typography.Paragraph>
      <label htmlFor="manifest"><Typography.Text strong>{t('publish.manifest')}</Typography.Text></label>
      <Input.TextArea
        id="manifest"
        ref={(r) => { area.current = r?.resizableTextArea?.textArea ?? null; }}
        value={text}
        onChange={(e) => setText(e.target.value)}
        autoSize={{ minRows: 12, maxRows: 30 }}
        spellCheck={false}
        aria-invalid={errors.length > 0}
        aria-describedby="manifest-errors"
        style={{ fontFamily: 'ui-monospace, monospace', fontSize: 13 }}
      />
      <div id="manifest-errors" aria-live="polite">
        {errors.length === 0 ? (
          <Alert type="success" showIcon title={t('publish.valid')} />
        ) : (
          <Card size="small" title={t('publish.problems', { n: errors.length })} data-testid="manifest-errors">
            <AnnotatedSource text={deferred} errors={errors} onPick={goTo} />
          </Card>
        )}
      </div>
      <Space wrap>
        <Checkbox checked={draft} onChange={(e) => setDraft(e.target.checked)}>{t('publish.draft')}</Checkbox>
        <Button type="primary" onClick={() => publish.mutate()} loading={publish.isPending} disabled={errors.length > 0}>{t('publish.submit')}</Button>
      </Space>
      {publish.isError ? <Alert role="alert" type="error" showIcon title={publish.error.message} /> : null}
      {publish.data ? <Alert role="status" type="success" showIcon title={t('publish.done', { product: publish.data.product, version: publish.data.version, status: t(`status.${publish.data.status}`) })} /> : null}
      <Card size="small" title={t('publish.mine')}>
        <Table
          size="small"
          rowKey={(r) => `${r.product}@${r.version}`}
          pagination={false}
          scroll={{ x: true }}
          loading={mine.isPending}
          dataSource={mine.data ?? []}
          columns={[
            { title: t('product.name'), render: (_, r) => <Link to={`/store/${encodeURIComponent(r.product)}`}>{r.product}</Link> },
            { title: t('product.version'), dataIndex: 'version' },
            { title: t('product.status'), render: (_, r) => <Tag>{t(`status.${r.status}`)}</Tag> },
            { title: t('product.launches'), dataIndex: 'launches' },
            { title: t('publish.note'), render: (_, r) => r.reviewNote ?? '' },
            { title: t('publish.created'), render: (_, r) => when(r.createdAt, lang) },
          ]}
        />
      </Card>
    </Space>
  );
}

/** The lines that have problems, each followed by its errors with a caret under the column. */
function AnnotatedSource({ text, errors, onPick }: { readonly text: string; readonly errors: readonly ManifestError[]; readonly onPick: (e: ManifestError) => void }) {
  const { t } = useI18n();
  const lines = text.split('\n');
  const byLine = new Map<number, ManifestError[]>();
  for (const e of errors) byLine.set(e.line, [...(byLine.get(e.line) ?? []), e]);
  return (
    <ol style={{ listStyle: 'none', padding: 0, margin: 0, fontFamily: 'ui-monospace, monospace', fontSize: 13 }}>
      {[...byLine.entries()].sort(([a], [b]) => a - b).map(([line, list]) => (
        <li key={line} style={{ marginBottom: 8 }}>
          <div style={{ whiteSpace: 'pre', overflowX: 'auto', background: '#fff1f0' }}>
            <span style={{ color: '#999' }}>{`${String(line).padStart(4)} `}</span>{lines[line - 1] ?? ''}
          </div>
          {list.map((e, i) => (
            <div key={i}>
              <div aria-hidden style={{ whiteSpace: 'pre', color: '#cf1322' }}>{' '.repeat(5 + Math.max(0, e.column - 1))}^</div>
              <Button type="link" size="small" danger onClick={() => onPick(e)} style={{ whiteSpace: 'normal', textAlign: 'start', height: 'auto', padding: 0 }}>
                {t('publish.at', { line: e.line, column: e.column })} {e.path ? <code>{e.path}</code> : null} {e.message}{e.hint ? ` — ${e.hint}` : ''}
              </Button>
            </div>
          ))}
        </li>
      ))}
    </ol>
  );
}
