// The tutorial's handler, as its preSignedURL.js does the job: an S3 client
// built at init and getSignedUrl for a PutObjectCommand per request.
import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const BUCKET_NAME = process.env.BUCKET_NAME || "YOUR_BUCKET_NAME";
const s3 = new S3Client({ region: process.env.AWS_REGION || "us-east-1" });

export const handler = async (event) => {
  const body = JSON.parse(event.body || "{}");
  const { fileName, contentType } = body;
  const fileKey = `uploads/${Date.now()}-${Math.random().toString(36).slice(2)}-${fileName}`;
  const command = new PutObjectCommand({ Bucket: BUCKET_NAME, Key: fileKey, ContentType: contentType });
  const uploadUrl = await getSignedUrl(s3, command, { expiresIn: 300 });
  return {
    statusCode: 200,
    headers: { "Access-Control-Allow-Origin": "*", "Content-Type": "application/json" },
    body: JSON.stringify({ uploadUrl, fileKey, expiresIn: 300 }),
  };
};
