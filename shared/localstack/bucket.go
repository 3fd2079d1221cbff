package localstack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"yinling/shared/sam"
)

func (r *Resources) createBucket(ctx context.Context, res sam.Resource) (Bucket, error) {
	name := sanitize(strings.ToLower(r.Prefix+res.LogicalID), func(c rune) bool {
		return c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	})
	if len(name) < 3 || len(name) > 63 {
		return Bucket{}, fmt.Errorf("bucket name %q must have 3 to 63 characters", name)
	}
	_, err := r.clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name})
	var mine *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &mine) {
		return Bucket{}, err
	}
	return Bucket{Name: name, Arn: "arn:aws:s3:::" + name}, nil
}

// deleteBucket empties the bucket, then deletes it: S3 refuses to delete a bucket with objects.
func (r *Resources) deleteBucket(ctx context.Context, b Bucket) error {
	c := r.clients.S3
	var nsb *types.NoSuchBucket
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &b.Name})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if errors.As(err, &nsb) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("bucket %s: list: %w", b.Name, err)
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, 0, len(page.Contents))
		for _, o := range page.Contents {
			ids = append(ids, types.ObjectIdentifier{Key: o.Key})
		}
		if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &b.Name,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		}); err != nil {
			return fmt.Errorf("bucket %s: empty: %w", b.Name, err)
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &b.Name}); err != nil && !errors.As(err, &nsb) {
		return fmt.Errorf("bucket %s: %w", b.Name, err)
	}
	return nil
}

// sanitize replaces every rune that ok rejects with '-' and trims '-' from both ends (bucket
// names must start and end with a letter or digit). It never truncates: two long names cut to
// the same length could collide, so an over-long name is reported instead.
func sanitize(s string, ok func(rune) bool) string {
	return strings.Trim(strings.Map(func(c rune) rune {
		if ok(c) {
			return c
		}
		return '-'
	}, s), "-")
}
