INSERT INTO jobs (id, status) VALUES (1, 'in_progress'), (2, 'queued');
INSERT INTO job_status_history (job_id, status) VALUES (1, 'queued'), (1, 'in_progress'), (2, 'queued');
